import { decodeBase64 } from '../../viewer/planes'

/** Browser mode: hand a PDF that arrived as base64 to the browser as a download. */
export function downloadPdf(base64: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([decodeBase64(base64) as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }))
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  // Revoked later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
