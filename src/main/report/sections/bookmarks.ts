import { segmentLabel } from '@common/charts'
import type { ReportCase, ReportData } from '../data'
import { pdfText } from '../pdfText'
import { FONT, type PdfWriter } from '../writer'

const GAP = 8

/** What the case is, by the names a reader finds in the dataset: file, split, class and place; no database ids. */
function describe(c: ReportCase): string {
  const parts = [c.imageName ? `${c.imageName.name}${c.imageName.split ? ` (${c.imageName.split})` : ''}` : c.target]
  if (c.segment) parts.push(segmentLabel(c.segment))
  if (c.explanation) parts.push(`${c.explanation.method} explanation of class ${c.explanation.className}`)
  if (c.imagePath && c.imageName && c.imagePath !== c.imageName.name) parts.push(`file ${c.imagePath}`)
  return parts.join('; ')
}

/** One case: heading line, what it is, the three thumbnails side by side, then its notes. Kept on one page when it fits. */
function caseBlock(w: PdfWriter, c: ReportCase): void {
  const doc = w.doc
  const thumbWidth = (w.width - 2 * GAP) / 3
  const thumbHeight = c.thumbnails ? thumbWidth * c.thumbnails.aspect : 0
  const heading = pdfText(`#${c.bookmarkId} ${c.title || '(untitled)'}${c.tags.length ? `   [${c.tags.join(', ')}]` : ''}`)
  const line = pdfText(describe(c))
  const notes = c.notes.map((n) => pdfText(`${n.createdAt.slice(0, 10)}: ${n.body}`))
  doc.font(FONT.bold).fontSize(10.5)
  const hHead = doc.heightOfString(heading, { width: w.width })
  doc.font(FONT.regular).fontSize(9)
  const hLine = doc.heightOfString(line, { width: w.width })
  const hNotes = notes.reduce((a, n) => a + doc.heightOfString(n, { width: w.width - 12 }) + 2, 0)
  const block = hHead + hLine + (c.thumbnails ? thumbHeight + 16 : 14) + hNotes + 18
  w.ensure(Math.min(block, w.bottom - doc.page.margins.top))

  doc.font(FONT.bold).fontSize(10.5).text(heading, w.left, doc.y, { width: w.width })
  doc.font(FONT.regular).fontSize(9).fillColor('#444444').text(line, w.left, doc.y, { width: w.width })
  doc.fillColor('#1a1a1a')
  w.space(4)
  if (c.thumbnails) {
    const y = doc.y
    const t = c.thumbnails
    const images: [Buffer | null, string][] = [
      [t.image, 'image'],
      [t.prediction, 'prediction'],
      [t.saliency, 'saliency (red), request (blue)']
    ]
    images.forEach(([png, label], i) => {
      const x = w.left + i * (thumbWidth + GAP)
      if (png) doc.image(png, x, y, { width: thumbWidth, height: thumbHeight })
      else doc.rect(x, y, thumbWidth, thumbHeight).lineWidth(0.5).strokeColor('#bbbbbb').stroke()
      doc.font(FONT.regular).fontSize(7.5).fillColor('#666666').text(png ? label : 'no prediction stored', x, y + thumbHeight + 2, { width: thumbWidth, align: 'center', lineBreak: false })
    })
    doc.fillColor('#1a1a1a')
    doc.y = y + thumbHeight + 14
  } else {
    doc.font(FONT.italic).fontSize(9).fillColor('#8a4b00').text(pdfText(`No thumbnails: ${c.problem ?? 'image unavailable'}`), w.left, doc.y, { width: w.width })
    doc.fillColor('#1a1a1a')
  }
  doc.x = w.left
  if (notes.length) {
    for (const n of notes) {
      doc.font(FONT.regular).fontSize(9).text(`- ${n}`, w.left + 6, doc.y, { width: w.width - 12 })
      w.space(2)
    }
  } else doc.font(FONT.italic).fontSize(9).fillColor('#666666').text('No notes.', w.left, doc.y, { width: w.width })
  doc.fillColor('#1a1a1a')
  doc.x = w.left
  w.space(6)
  doc.moveTo(w.left, doc.y).lineTo(w.left + w.width, doc.y).lineWidth(0.5).strokeColor('#dddddd').stroke()
  w.space(10)
}

/** The bookmarked cases with image, prediction and saliency thumbnails and the engineers' notes, in bookmark order. */
export function bookmarksSection(w: PdfWriter, data: ReportData): void {
  w.heading('Bookmarked cases', 1)
  if (data.cases.length === 0) {
    w.paragraph('No bookmarks in this project. Bookmark images, segments or explanations in the image view to list them here with their notes.')
    return
  }
  w.paragraph(`${data.cases.length} bookmark${data.cases.length === 1 ? '' : 's'}, oldest first. Thumbnails: the image, the model's prediction in class colours, and the bookmarked explanation (or the latest one of the segment or image) with the request outlined.`)
  for (const c of data.cases) caseBlock(w, c)
}
