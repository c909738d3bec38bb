import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../writeFileAtomic'

/**
 * Finished units of a run (an evaluation, one method's explanations of one model), one JSON file each, written
 * atomically so a run stopped mid-write never leaves a unit that reads as finished.
 */
export class UnitCache {
  hits = 0

  constructor(readonly dir: string) {}

  private path(key: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(key)) throw new RangeError(`bad cache key '${key}'`)
    return join(this.dir, `${key}.json`)
  }

  async get<T>(key: string): Promise<T | null> {
    let text: string
    try {
      text = await readFile(this.path(key), 'utf8')
    } catch {
      return null
    }
    try {
      const v = JSON.parse(text) as T
      this.hits++
      return v
    } catch {
      // A unit that does not parse is recomputed rather than trusted.
      return null
    }
  }

  async put<T>(key: string, value: T): Promise<T> {
    await mkdir(this.dir, { recursive: true })
    await writeFileAtomic(this.path(key), JSON.stringify(value))
    return value
  }

  /** The cached value, or compute and store it. */
  async through<T>(key: string, compute: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const hit = await this.get<T>(key)
    if (hit !== null) return { value: hit, cached: true }
    return { value: await this.put(key, await compute()), cached: false }
  }
}
