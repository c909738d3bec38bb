import { z } from 'zod'

/**
 * Every failure that crosses a boundary (IPC, HTTP, CLI, worker) travels as one shape with a stable code,
 * so the UI and scripts can match on what happened instead of parsing messages.
 */
export const ERROR_CODES = [
  // transport and validation
  'INVALID_PAYLOAD',
  'UNKNOWN_METHOD',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'INTERNAL',
  'CANCELLED',
  // project store
  'NO_PROJECT_OPEN',
  'PROJECT_OPEN_FAILED',
  'PROJECT_SCHEMA_TOO_NEW',
  'CONFLICT',
  // engine and models
  'BACKEND_UNAVAILABLE',
  'MODEL_FILE_INVALID',
  'MODEL_OUTPUT_MISMATCH',
  'MODEL_NOT_PROBABILITIES',
  'MODEL_NO_GRADIENT_PATH',
  'MODEL_NOT_FINITE',
  'MODEL_INPUT_SIZE_UNKNOWN',
  'MODEL_UNSUPPORTED_OP',
  'MODEL_RUNTIME_UNAVAILABLE',
  'WORKER_CRASHED',
  // data
  'IMAGE_UNREADABLE',
  'LABEL_SIZE_MISMATCH',
  'IMAGE_SIZE_MISMATCH',
  'UNKNOWN_CLASS_ID',
  'LABEL_MISSING',
  'DATASET_INVALID',
  'CLASS_SET_MISMATCH',
  // saliency
  'EMPTY_REQUEST_MASK',
  'REQUEST_SIZE_MISMATCH',
  'INVALID_PARAMETERS',
  // jobs
  'JOB_NOT_FOUND',
  'JOB_STATE',
  /** Another live process owns the job (its lease is fresh): refused instead of running the same items twice. */
  'JOB_RUNNING'
] as const

export const ErrorCodeSchema = z.enum(ERROR_CODES)
export type ErrorCode = z.infer<typeof ErrorCodeSchema>

export const ErrorShapeSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.unknown().optional()
})
export type ErrorShape = z.infer<typeof ErrorShapeSchema>

export class AppError extends Error {
  readonly code: ErrorCode
  readonly details?: unknown

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.details = details
  }

  toShape(): ErrorShape {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details }
  }

  static fromShape(shape: ErrorShape): AppError {
    return new AppError(shape.code, shape.message, shape.details)
  }
}

/** Any thrown value as the error shape; unknown failures become INTERNAL with their message kept. */
export function toErrorShape(err: unknown): ErrorShape {
  if (err instanceof AppError) return err.toShape()
  const parsed = ErrorShapeSchema.safeParse(err)
  if (parsed.success) return parsed.data
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'INTERNAL', message }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code)
}
