import type { Command } from 'commander'
import { printJson, table } from '../output'
import type { CommandContext } from '../program'
import { pathArg } from '../argParsers'

export function registerBookmarks(program: Command, run: CommandContext): void {
  const bookmarks = program.command('bookmarks').description('List the bookmarked images, segments and explanations of a project')

  bookmarks
    .command('list')
    .description('List bookmarks, newest first')
    .requiredOption('--project <file>', 'the project file', pathArg)
    .option('--kind <kind>', 'only bookmarks of image, segment or explanation')
    .option('--tag <tag>', 'only bookmarks with this tag')
    .option('--json', 'print JSON')
    .action((opts: { project: string; kind?: string; tag?: string; json?: boolean }) =>
      run(opts, async (session) => {
        await session.openProject(opts.project)
        // The kind goes to the contract's schema unchecked, so a typo gets the same error as over HTTP or IPC.
        const list = await session.call('bookmarks:list', {
          ...(opts.kind ? { targetKind: opts.kind as 'image' } : {}),
          ...(opts.tag ? { tag: opts.tag } : {})
        })
        if (opts.json) return printJson(list)
        if (list.length === 0) return console.log('No bookmarks yet.')
        console.log(table([['id', 'target', 'title', 'tags'], ...list.map((b) => [b.id, `${b.targetKind} ${b.targetId}`, b.title, b.tags.join(', ')])]))
      })
    )
}
