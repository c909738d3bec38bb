import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { writeFileAtomic } from '@main/writeFileAtomic'
import { tempDir } from './helpers/tempdir'

const dir = tempDir('ctxlens-atomic-')
afterAll(() => dir.cleanup())

describe('writeFileAtomic', () => {
  it('creates and replaces a file, leaving nothing else behind', async () => {
    const path = dir.file('a.json')
    await writeFileAtomic(path, '{"v":1}')
    writeFileSync(dir.file('keep.txt'), 'x')
    await writeFileAtomic(path, new Uint8Array([123, 125]))
    expect(readFileSync(path, 'utf8')).toBe('{}')
    expect(readdirSync(dir.path).sort()).toEqual(['a.json', 'keep.txt'])
  })

  it('keeps concurrent writers of one path apart: one complete content wins', async () => {
    const path = dir.file('b.txt')
    const contents = Array.from({ length: 8 }, (_, i) => String(i).repeat(10_000))
    await Promise.all(contents.map((c) => writeFileAtomic(path, c)))
    expect(contents).toContain(readFileSync(path, 'utf8'))
    expect(readdirSync(dir.path).filter((f) => f.startsWith('b.txt'))).toEqual(['b.txt'])
  })

  it('fails without leaving its temporary file when the target cannot be replaced', async () => {
    const target = dir.file('occupied')
    mkdirSync(target)
    writeFileSync(`${target}/inside`, 'x')
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow()
    expect(readdirSync(dir.path).filter((f) => f.startsWith('occupied'))).toEqual(['occupied'])
    expect(readdirSync(target)).toEqual(['inside'])
  })

  it('with overwrite: false never replaces a file, even one that appeared after the caller looked', async () => {
    const path = dir.file('report.pdf')
    await writeFileAtomic(path, 'first', { overwrite: false })
    expect(readFileSync(path, 'utf8')).toBe('first')
    await expect(writeFileAtomic(path, 'second', { overwrite: false })).rejects.toMatchObject({ code: 'EEXIST' })
    expect(readFileSync(path, 'utf8')).toBe('first')
    expect(readdirSync(dir.path).filter((f) => f.startsWith('report.pdf'))).toEqual(['report.pdf'])
    // Of concurrent writers that each found no file, exactly one places its content.
    const race = dir.file('race.txt')
    const results = await Promise.allSettled(['a', 'b', 'c', 'd'].map((c) => writeFileAtomic(race, c.repeat(10_000), { overwrite: false })))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    expect(readdirSync(dir.path).filter((f) => f.startsWith('race.txt'))).toEqual(['race.txt'])
  })
})
