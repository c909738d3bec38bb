/**
 * The Fig. 4 matrices: rows are the digit a model was biased towards (N for the unbiased model), columns the
 * digit a value was measured on. The paper draws weak and strong bias as separate panels; a run with both keeps
 * them apart as rows "2 strong" and "2 weak", a run with one strength labels its rows by digit alone. As in the paper, a cell is the mean over images for each model (one bias
 * texture and dataset seed), then the mean over those models; a model whose images all gave undefined values
 * for a digit drops out of that cell, and the undefined images are counted.
 */
export interface BiasRecordKey {
  /** The digit the model was trained biased towards; null for the unbiased model (row N). */
  biasedDigit: number | null
  /** Strength of the bias; absent counts as strong (and is ignored for row N). */
  bias?: BiasedStrength
  /** The digit the value was measured on (the column). */
  digit: number
  /** The bias texture of the model's training set; null when unbiased. */
  texture: number | null
  /** The dataset seed of the model's training set. */
  seed: number
}

export interface ContextBiasRecord extends BiasRecordKey {
  cbd: number | null
  cbl: number | null
}

export interface BiasMatrixCell {
  mean: number | null
  /** Population standard deviation of the per-model means; null without a model. */
  std: number | null
  models: number
  /** Images with a defined value. */
  images: number
  /** Images whose value was undefined (null) and so left out. */
  undefinedImages: number
}

export interface BiasMatrix {
  rowLabels: string[]
  columnLabels: string[]
  /** values[row][column] = cells[row][column].mean */
  values: (number | null)[][]
  cells: BiasMatrixCell[][]
}

export type BiasedStrength = 'weak' | 'strong'

export const BIAS_MATRIX_ROWS = ['N', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
export const BIAS_MATRIX_COLUMNS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']
const STRENGTH_ORDER: BiasedStrength[] = ['strong', 'weak']

/** The strengths of a set, strong first: the order of the matrices' row blocks. */
export const orderedStrengths = (strengths: Iterable<BiasedStrength>): BiasedStrength[] => {
  const set = new Set(strengths)
  return STRENGTH_ORDER.filter((s) => set.has(s))
}

/** The row label of a biased digit: the digit alone when the run has one strength, else digit and strength. */
export function biasRowLabel(biasedDigit: number | null, bias: BiasedStrength | undefined, strengths: readonly BiasedStrength[]): string {
  if (biasedDigit === null) return 'N'
  return strengths.length > 1 ? `${biasedDigit} ${bias ?? 'strong'}` : String(biasedDigit)
}

/** N, then 0–9 for each strength present (strong first); one strength gives the plain Fig. 4 rows. */
export function biasMatrixRows(strengths: readonly BiasedStrength[]): string[] {
  const present = orderedStrengths(strengths)
  if (present.length <= 1) return [...BIAS_MATRIX_ROWS]
  return ['N', ...present.flatMap((s) => BIAS_MATRIX_COLUMNS.map((d) => biasRowLabel(Number(d), s, present)))]
}

export function aggregateBiasMatrix<R extends BiasRecordKey>(
  records: Iterable<R>,
  value: (r: R) => number | null,
  /** The strengths whose rows the matrix has; by default those of the records. */
  strengthsOfRun?: readonly BiasedStrength[]
): BiasMatrix {
  const list = [...records]
  const strengths = orderedStrengths(strengthsOfRun ?? list.flatMap((r) => (r.biasedDigit === null ? [] : [r.bias ?? 'strong'])))
  const rowLabels = biasMatrixRows(strengths)
  const rowOf = (r: R): number => rowLabels.indexOf(biasRowLabel(r.biasedDigit, r.bias, strengths))
  interface Group {
    row: number
    digit: number
    sum: number
    images: number
    undefinedImages: number
  }
  const groups = new Map<string, Group>()
  for (const r of list) {
    if (!Number.isInteger(r.digit) || r.digit < 0 || r.digit > 9) throw new RangeError(`digit ${r.digit} is not 0–9`)
    if (r.biasedDigit !== null && (!Number.isInteger(r.biasedDigit) || r.biasedDigit < 0 || r.biasedDigit > 9)) {
      throw new RangeError(`biased digit ${r.biasedDigit} is not 0–9 or null`)
    }
    if (r.biasedDigit !== null && !strengths.includes(r.bias ?? 'strong')) {
      throw new RangeError(`${r.bias ?? 'strong'} bias is not among the run's strengths (${strengths.join(', ')})`)
    }
    const row = rowOf(r)
    const key = `${row}|${r.texture}|${r.seed}|${r.digit}`
    let g = groups.get(key)
    if (!g) {
      g = { row, digit: r.digit, sum: 0, images: 0, undefinedImages: 0 }
      groups.set(key, g)
    }
    const v = value(r)
    if (v === null || Number.isNaN(v)) g.undefinedImages++
    else {
      g.sum += v
      g.images++
    }
  }

  const modelMeans: number[][][] = rowLabels.map(() => BIAS_MATRIX_COLUMNS.map(() => []))
  const cells: BiasMatrixCell[][] = rowLabels.map(() =>
    BIAS_MATRIX_COLUMNS.map(() => ({ mean: null, std: null, models: 0, images: 0, undefinedImages: 0 }))
  )
  for (const g of groups.values()) {
    const cell = cells[g.row][g.digit]
    cell.images += g.images
    cell.undefinedImages += g.undefinedImages
    if (g.images > 0) modelMeans[g.row][g.digit].push(g.sum / g.images)
  }
  cells.forEach((row, i) =>
    row.forEach((cell, j) => {
      const means = modelMeans[i][j]
      cell.models = means.length
      if (means.length === 0) return
      const mean = means.reduce((a, b) => a + b, 0) / means.length
      cell.mean = mean
      cell.std = Math.sqrt(means.reduce((a, b) => a + (b - mean) ** 2, 0) / means.length)
    })
  )
  return {
    rowLabels,
    columnLabels: [...BIAS_MATRIX_COLUMNS],
    values: cells.map((row) => row.map((c) => c.mean)),
    cells
  }
}

/** mCBD and mCBL matrices from per-image records. */
export function aggregateContextBias(
  records: readonly ContextBiasRecord[],
  strengths?: readonly BiasedStrength[]
): { cbd: BiasMatrix; cbl: BiasMatrix } {
  return {
    cbd: aggregateBiasMatrix(records, (r) => r.cbd, strengths),
    cbl: aggregateBiasMatrix(records, (r) => r.cbl, strengths)
  }
}
