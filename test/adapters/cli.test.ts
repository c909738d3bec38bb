import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { afterAll, describe, expect, it } from 'vitest'
import { saliencyParams } from '@main/cli/optionSets'
import { buildProgram } from '@main/cli/program'
import { LATEST_SCHEMA_VERSION } from '@main/store/database'
import { builtCli } from '../helpers/builtApp'
import { tempDir } from '../helpers/tempdir'

const dir = tempDir()
afterAll(() => dir.cleanup())
const cliEntry = builtCli()

function ctxlens(...args: string[]) {
  return ctxlensWith({ CTXLENS_BACKEND: 'cpu' }, ...args)
}

function ctxlensWith(env: Record<string, string | undefined>, ...args: string[]) {
  return ctxlensIn(undefined, env, ...args)
}

function ctxlensIn(cwd: string | undefined, env: Record<string, string | undefined>, ...args: string[]) {
  const r = spawnSync(process.execPath, [cliEntry, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Parses args in-process with commander's exit turned into an exception; resolves to that exception and stderr. */
async function parseError(...args: string[]): Promise<{ error: { code?: string; message?: string }; stderr: string }> {
  const program = buildProgram('0.0.0')
  let stderr = ''
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)]
  for (const c of all(program)) c.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (t) => (stderr += t) })
  try {
    await program.parseAsync(['node', 'ctxlens', ...args])
  } catch (error) {
    return { error: error as { code?: string; message?: string }, stderr }
  }
  throw new Error(`ctxlens ${args.join(' ')} was accepted`)
}

function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])])
}

describe('ctxlens CLI', () => {
  it('has --help on every command', async () => {
    const paths = commandPaths(buildProgram('0.0.0'))
    expect(paths.length).toBeGreaterThanOrEqual(5)
    for (const path of [[], ...paths]) {
      // In-process, with commander's exit turned into an exception, so each command's real help is produced.
      const program = buildProgram('0.0.0')
      let out = ''
      const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)]
      for (const c of all(program)) c.exitOverride().configureOutput({ writeOut: (t) => (out += t), writeErr: (t) => (out += t) })
      await expect(program.parseAsync(['node', 'ctxlens', ...path, '--help'])).rejects.toMatchObject({ code: 'commander.helpDisplayed' })
      expect(out, path.join(' ')).toContain(`Usage: ctxlens${path.length ? ' ' + path.join(' ') : ''}`)
    }
    // And once as a user runs it, from the shell.
    const r = ctxlens('dataset', 'texture-mnist', '--help')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('--biased-digit')
  })

  it('rejects a non-numeric or out-of-range number before running, naming the option and what it wants', async () => {
    const explain = ['explain', '--model', 'm', '--image', 'i.png', '--class', '1', '--out', 'o', '--auto']
    const cases: [string[], RegExp][] = [
      [[...explain, '--steps', 'abc'], /option '--steps <n>' argument 'abc' is invalid\. "abc" is not a positive integer/],
      [[...explain, '--steps', '0'], /"0" is not a positive integer/],
      [[...explain, '--momentum', '1.5'], /option '--momentum <x>' argument '1\.5' is invalid\. "1\.5" is not a number from 0 to 0\.999/],
      [['stats', '--project', 'p.ctxlens', '--seed', 'abc'], /option '--seed <n>' argument 'abc' is invalid\. "abc" is not an integer/],
      [['stats', '--project', 'p.ctxlens', '--bootstrap', '5'], /"5" is not an integer from 10 to 100000/],
      [['report', '--project', 'p.ctxlens', '--out', 'r.pdf', '--margin', '-0.1'], /option '--margin <x>' argument '-0\.1' is invalid\. "-0\.1" is not a non-negative number/],
      [['audit', '--project', 'p.ctxlens', '--lr', 'fast'], /option '--lr <x>' argument 'fast' is invalid\. "fast" is not a positive number/],
      [['audit', '--project', 'p.ctxlens', '--batch-size', '1000'], /"1000" is not an integer from 1 to 256/],
      [['dataset', 'texture-mnist', '--out', 'o', '--biased-digit', '12'], /option '--biased-digit <d>' argument '12' is invalid\. "12" is not an integer from 0 to 9/]
    ]
    for (const [args, message] of cases) {
      const { error, stderr } = await parseError(...args)
      expect(error.code, args.join(' ')).toBe('commander.invalidArgument')
      expect(stderr, args.join(' ')).toMatch(message)
    }
  })

  it('maps the saliency flags onto the parameters the command takes them for', () => {
    const given = { maskSize: [4, 8] as [number, number], steps: 3, lr: 0.5, seed: 7 }
    expect(saliencyParams(['maskSize', 'steps', 'lr', 'seed'], 'context', given)).toEqual({ maskHeight: 4, maskWidth: 8, steps: 3, learningRate: 0.5, seed: 7 })
    expect(saliencyParams(['maskSize', 'steps', 'lr', 'seed'], 'ig', given)).toEqual({ saliencyHeight: 4, saliencyWidth: 8, steps: 3, learningRate: 0.5, seed: 7 })
    // audit takes --seed for its sample, so it is no saliency parameter there.
    expect(saliencyParams(['maskSize', 'steps', 'lambda', 'lr'], 'context', given)).toEqual({ maskHeight: 4, maskWidth: 8, steps: 3, learningRate: 0.5 })
  })

  it('makes every file or folder typed on the command line absolute against the shell folder, since services take absolute paths', () => {
    const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)]
    const checked: string[] = []
    for (const c of all(buildProgram('0.0.0'))) {
      const takesPath = (placeholder: string) => /<[^>]*(file|dir|\.png)[^>]*>/.test(placeholder)
      for (const o of c.options.filter((o) => takesPath(o.flags))) {
        const where = `${c.name()} ${o.long}`
        checked.push(where)
        expect(o.parseArg, where).toBeTypeOf('function')
        // --class-map collects pairs or files, one entry per use.
        if (o.long === '--class-map') expect(o.parseArg!('sub/x.json', undefined), where).toEqual([{ file: resolve('sub/x.json') }])
        else expect(o.parseArg!('sub/x.json', undefined), where).toBe(resolve('sub/x.json'))
        if (o.flags.includes('<id|')) expect(o.parseArg!('12', undefined), where).toBe('12')
        if (o.flags.includes('<preset|')) expect(o.parseArg!('cityscapes', undefined), where).toBe('cityscapes')
      }
      for (const a of c.registeredArguments.filter((a) => takesPath(`<${a.name()}>`))) {
        checked.push(`${c.name()} <${a.name()}>`)
        expect(a.parseArg?.('sub/x.json', undefined), c.name()).toBe(resolve('sub/x.json'))
      }
    }
    expect(checked).toEqual(expect.arrayContaining(['create <file>', 'report --out', 'stats --out', 'import --root', 'explain --request', 'predict --model', 'add --classes', 'audit --model-classes']))

    // As a user runs it: relative to the folder the shell is in, not to wherever the services happen to run.
    const here = dir.file('shell-folder')
    mkdirSync(here)
    const created = ctxlensIn(here, { CTXLENS_BACKEND: 'cpu' }, 'project', 'create', 'relative.ctxlens', '--json')
    expect(created.code, created.stderr).toBe(0)
    expect(JSON.parse(created.stdout).path).toBe(join(here, 'relative.ctxlens'))
    expect(existsSync(join(here, 'relative.ctxlens'))).toBe(true)
  })

  it('info --json reports versions, the backend and the project schema version', () => {
    const project = dir.file('cli.ctxlens')
    expect(ctxlens('project', 'create', project).code).toBe(0)
    const r = ctxlens('info', '--json', '--project', project)
    expect(r.code).toBe(0)
    const info = JSON.parse(r.stdout)
    expect(info.nodeVersion).toBe(process.versions.node)
    expect(info.backend).toMatchObject({ name: 'cpu', forcedBy: 'env' })
    expect(info.project).toMatchObject({ path: project, schemaVersion: LATEST_SCHEMA_VERSION })
  })

  it('validates arguments with the contract and exits non-zero with the error code', () => {
    const project = dir.file('cli2.ctxlens')
    ctxlens('project', 'create', project)
    const bad = ctxlens('bookmarks', 'list', '--project', project, '--kind', 'galaxy', '--json')
    expect(bad.code).toBe(1)
    expect(JSON.parse(bad.stderr)).toMatchObject({ ok: false, error: { code: 'INVALID_PAYLOAD' } })
    const missing = ctxlens('info', '--project', dir.file('absent.ctxlens'))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('[PROJECT_OPEN_FAILED]')
    const backend = ctxlens('--backend', 'quantum', 'info')
    expect(backend.code).not.toBe(0)
    expect(backend.stderr).toMatch(/quantum/)
  })

  it('dataset texture-mnist writes the benchmark set, and refuses a bias without its digit and texture', () => {
    const out = dir.file('tm')
    const r = ctxlens('dataset', 'texture-mnist', '--out', out, '--train', '20', '--test', '10', '--bias', 'strong', '--biased-digit', '3', '--bias-texture', '7', '--json')
    expect(r.code, r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout)
    expect(summary.counts).toEqual({ train: 20, test: 10 })
    expect(readdirSync(join(out, 'train', 'images'))).toHaveLength(20)
    expect(existsSync(summary.contactSheet)).toBe(true)
    const bad = ctxlens('dataset', 'texture-mnist', '--out', dir.file('tm-bad'), '--bias', 'weak', '--json')
    expect(bad.code).toBe(1)
    const err = JSON.parse(bad.stderr).error
    expect(err.code).toBe('INVALID_PAYLOAD')
    expect(err.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['biasTexture', 'biasedDigit'])
  })

  it('a backend forced in the settings file is used, the flag wins over it, and a broken file is named', () => {
    const home = dir.file('home')
    mkdirSync(home)
    writeFileSync(join(home, 'settings.json'), JSON.stringify({ backend: 'cpu' }))
    const bySetting = ctxlensWith({ CTXLENS_HOME: home, CTXLENS_BACKEND: undefined }, 'info', '--json')
    expect(JSON.parse(bySetting.stdout).backend).toMatchObject({ name: 'cpu', forcedBy: 'setting' })
    const byFlag = ctxlensWith({ CTXLENS_HOME: home, CTXLENS_BACKEND: undefined }, '--backend', 'wasm', 'info', '--json')
    expect(JSON.parse(byFlag.stdout).backend).toMatchObject({ name: 'wasm', forcedBy: 'flag' })
    writeFileSync(join(home, 'settings.json'), '{ "backend": "quantum" }')
    const broken = ctxlensWith({ CTXLENS_HOME: home, CTXLENS_BACKEND: undefined }, 'info')
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain('settings.json')
  })
})
