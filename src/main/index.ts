import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { app, BrowserWindow, dialog, ipcMain, session, shell, type SaveDialogOptions } from 'electron'
import { EVENT_CHANNEL } from '@common/channels'
import { registerIpcHandlers } from './adapters/ipc'
import { announceBundledWorkerEntry } from './paths'
import { CONTENT_SECURITY_POLICY } from './security'
import { ServiceContext } from './services/context'
import { createDispatch } from './services/dispatch'
import { createServices } from './services/index'
import { provideSaveDialog } from './services/reports'
import { openStartupProject } from './startup'

/** Electron entry: a window over the same services as browser mode and the CLI, reached only through IPC. */
announceBundledWorkerEntry()
const ctx = new ServiceContext('electron', { backend: process.env.CTXLENS_BACKEND })
const dispatch = createDispatch(createServices(ctx))
// Export PDF in the window asks where to save; browser mode downloads instead and the CLI takes --out. The dialog
// asks before replacing an existing file (macOS and Windows always do; Linux only with showOverwriteConfirmation),
// so reports:save replaces what it returns.
provideSaveDialog(ctx, async (defaultName) => {
  const options: SaveDialogOptions = {
    defaultPath: join(app.getPath('documents'), defaultName),
    filters: [{ name: 'PDF', extensions: ['pdf'] }],
    properties: ['showOverwriteConfirmation', 'createDirectory']
  }
  const win = BrowserWindow.getFocusedWindow()
  const chosen = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options)
  return chosen.canceled || !chosen.filePath ? null : chosen.filePath
})
const rendererUrl = process.env.ELECTRON_RENDERER_URL
const rendererFile = join(import.meta.dirname, '../renderer/index.html')

function isTrustedFrame(url: string): boolean {
  return rendererUrl ? url.startsWith(rendererUrl) : url.startsWith(pathToFileURL(rendererFile).href)
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    show: false,
    title: 'Context Lens',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true
    }
  })
  win.once('ready-to-show', () => win.show())
  // The app never navigates away from its own page; links open in the user's browser.
  win.webContents.on('will-navigate', (e, url) => {
    if (!isTrustedFrame(url)) e.preventDefault()
  })
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  const unsubscribe = ctx.events.subscribe((event) => {
    if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event)
  })
  win.on('closed', unsubscribe)
  if (rendererUrl) void win.loadURL(rendererUrl)
  else void win.loadFile(rendererFile)
}

app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
  // Nothing at run time reaches the network: refuse any request that is not our own page or assets.
  session.defaultSession.webRequest.onBeforeRequest((details, callback) => {
    const local = details.url.startsWith('file:') || details.url.startsWith('devtools:') || (rendererUrl && details.url.startsWith(rendererUrl))
    callback({ cancel: !local })
  })
  registerIpcHandlers(ipcMain, dispatch, isTrustedFrame)
  try {
    await openStartupProject(dispatch, ctx.events)
  } catch (err) {
    ctx.events.log('error', `Could not open the project: ${(err as Error).message}`)
  }
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  ctx.dispose()
  if (process.platform !== 'darwin') app.quit()
})
