import { z } from 'zod'
import { absolutePath } from '../absolutePath'
import { StatsOptionsSchema } from '../audit'

/**
 * PDF bias reports (issue 8). The same sections are offered by the Reports screen, the CLI and the services; the
 * title page and the table of contents are always there.
 */
export const REPORT_SECTIONS = ['alerts', 'classes', 'bookmarks', 'methods'] as const
export const ReportSectionSchema = z.enum(REPORT_SECTIONS)
export type ReportSection = z.infer<typeof ReportSectionSchema>

export const REPORT_SECTION_TITLES: Record<ReportSection, string> = {
  alerts: 'Bias alerts',
  classes: 'Context per requested class',
  bookmarks: 'Bookmarked cases',
  methods: 'Methods appendix'
}

/** `--sections alerts,classes` and the like; a name we do not know is an error that lists the ones we do. */
export function parseSections(list: string): ReportSection[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = names.filter((n) => !ReportSectionSchema.safeParse(n).success)
  if (unknown.length) throw new Error(`Unknown report section${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; choose from ${REPORT_SECTIONS.join(', ')}`)
  if (names.length === 0) throw new Error(`Name at least one report section: ${REPORT_SECTIONS.join(', ')}`)
  return [...new Set(names)] as ReportSection[]
}

/** What goes into a report: the audit statistics' options (which job, baseline radius, bootstrap, alerts) and the sections. */
export const ReportOptionsSchema = StatsOptionsSchema.extend({
  sections: z.array(ReportSectionSchema).min(1).default([...REPORT_SECTIONS]),
  /** Shown on the title page; default "Context bias report". */
  title: z.string().min(1).max(200).optional()
}).strict()
export type ReportOptions = z.infer<typeof ReportOptionsSchema>
export type ReportOptionsInput = z.input<typeof ReportOptionsSchema>

const ReportResultFields = {
  pages: z.number().int(),
  bytes: z.number().int(),
  sections: z.array(ReportSectionSchema)
}

export const reportMethods = {
  /** The report as PDF bytes, for browser mode's download; the HTTP API's token check covers it. */
  'reports:pdf': {
    input: ReportOptionsSchema,
    /** The PDF's bytes: as they are over IPC, through the wire codec (src/common/wire.ts) over HTTP. */
    output: z.object({ filename: z.string(), pdf: z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array'), ...ReportResultFields })
  },

  /**
   * Writes the report to a file: `path`, or (desktop app only, path omitted) the one chosen in a save dialog.
   * `path` is null when the dialog was cancelled. Recorded in the project's reports. An existing `path` is
   * CONFLICT unless `overwrite` (the dialog asks the user itself).
   */
  'reports:save': {
    input: ReportOptionsSchema.extend({ path: absolutePath('the report file').optional(), overwrite: z.boolean().default(false) }).strict(),
    output: z.object({ path: z.string().nullable(), ...ReportResultFields })
  }
} as const
