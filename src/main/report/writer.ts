import PDFDocument from 'pdfkit'
import SVGtoPDF from 'svg-to-pdfkit'
import type { ReportChart, ReportTable } from '@common/charts'
import { pdfText } from './pdfText'
import { chartSvg } from './svgChart'

export const FONT = { regular: 'Helvetica', bold: 'Helvetica-Bold', italic: 'Helvetica-Oblique' } as const
const INK = '#1a1a1a'
const MUTED = '#666666'
const RULE = '#c8c8c8'
const ZEBRA = '#f3f3f3'
const HEADER_FILL = '#e4e4e4'
const CELL_PAD = 4

const STRIP_GAP = 4
/** Strip images are thumbnails: a tall image is kept this short (points) instead of stretching the row. */
const MAX_STRIP_IMAGE_HEIGHT = 60

/** Images drawn side by side under a table row's text: groups of images, each group with a caption under it. */
export interface RowStrip {
  /** Image slots the band is divided into, the same for every row of a table so the images share one scale. */
  slots: number
  groups: { images: { data: Buffer; aspect: number }[]; caption: string }[]
}

interface StripLayout {
  slot: number
  groups: (RowStrip['groups'][number] & { x: number; width: number })[]
  imageHeight: number
  height: number
}

export interface TocEntry {
  title: string
  level: 1 | 2
  /** 0-based page index. */
  page: number
  destination: string
}

/**
 * The report's page model on top of pdfkit: A4, standard fonts (embedded by name, nothing fetched), flowing blocks
 * that move to a new page instead of being cut, tables that repeat their header on every page they run onto, and
 * the table of contents and page numbers written last (pages are buffered until then).
 */
export class PdfWriter {
  readonly doc: PDFKit.PDFDocument
  readonly toc: TocEntry[] = []
  private readonly chunks: Buffer[] = []
  private readonly finished: Promise<Buffer>
  private destinations = 0
  private outlineSection: PDFKit.PDFOutline | null = null

  constructor(info: { title: string; subject: string; creationDate: Date }) {
    this.doc = new PDFDocument({
      size: 'A4',
      margins: { top: 56, bottom: 60, left: 50, right: 50 },
      bufferPages: true,
      info: { Title: pdfText(info.title), Author: 'Context Lens', Subject: pdfText(info.subject), CreationDate: info.creationDate },
      font: FONT.regular
    })
    this.doc.on('data', (c: Buffer) => this.chunks.push(c))
    this.finished = new Promise((resolve, reject) => {
      this.doc.on('end', () => resolve(Buffer.concat(this.chunks)))
      this.doc.on('error', reject)
    })
    this.doc.fillColor(INK)
  }

  get left(): number {
    return this.doc.page.margins.left
  }
  get width(): number {
    return this.doc.page.width - this.doc.page.margins.left - this.doc.page.margins.right
  }
  get bottom(): number {
    return this.doc.page.height - this.doc.page.margins.bottom
  }
  get pageIndex(): number {
    const r = this.doc.bufferedPageRange()
    return r.start + r.count - 1
  }
  get pageCount(): number {
    return this.doc.bufferedPageRange().count
  }

  newPage(): void {
    this.doc.addPage()
    this.doc.x = this.left
  }

  /** Starts a new page unless `height` more points fit on this one. */
  ensure(height: number): void {
    if (this.doc.y + height > this.bottom) this.newPage()
  }

  space(points: number): void {
    this.doc.y += points
  }

  /**
   * A section (level 1, on a new page) or subsection heading, listed in the contents and the PDF outline. A
   * subsection heading moves to the next page unless `keepWith` points of what follows fit under it.
   */
  heading(title: string, level: 1 | 2, keepWith = 60): void {
    if (level === 1) this.newPage()
    else this.ensure(30 + keepWith)
    const destination = `s${++this.destinations}`
    this.toc.push({ title, level, page: this.pageIndex, destination })
    if (level === 1) this.outlineSection = this.doc.outline.addItem(pdfText(title))
    else (this.outlineSection ?? this.doc.outline).addItem(pdfText(title))
    if (level === 2) this.space(6)
    this.doc
      .font(FONT.bold)
      .fontSize(level === 1 ? 18 : 13)
      .fillColor(INK)
      .text(pdfText(title), this.left, this.doc.y, { width: this.width, destination })
    this.space(level === 1 ? 8 : 4)
    this.doc.font(FONT.regular).fontSize(10)
  }

  paragraph(text: string, opts: { font?: keyof typeof FONT; size?: number; colour?: string; gap?: number } = {}): void {
    const size = opts.size ?? 10
    this.doc.font(FONT[opts.font ?? 'regular']).fontSize(size)
    const t = pdfText(text)
    // Keep short paragraphs whole; long ones may flow over a page break (pdfkit continues them on the next page).
    const h = this.doc.heightOfString(t, { width: this.width })
    if (h < 200) this.ensure(h)
    this.doc.fillColor(opts.colour ?? INK).text(t, this.left, this.doc.y, { width: this.width })
    this.doc.fillColor(INK)
    this.space(opts.gap ?? 6)
  }

  /** Label: value lines (title page, parameters), the labels in bold in a fixed column. */
  facts(rows: [string, string][], labelWidth = 150): void {
    for (const [label, value] of rows) {
      this.doc.font(FONT.regular).fontSize(10)
      const v = pdfText(value)
      const h = Math.max(this.doc.heightOfString(v, { width: this.width - labelWidth }), 12) + 3
      this.ensure(h)
      const y = this.doc.y
      this.doc.font(FONT.bold).text(pdfText(label), this.left, y, { width: labelWidth - 8 })
      this.doc.font(FONT.regular).text(v, this.left + labelWidth, y, { width: this.width - labelWidth })
      this.doc.y = y + h
    }
    this.doc.x = this.left
    this.space(4)
  }

  /**
   * A table that splits across pages between rows; every page it continues on starts with its caption marked
   * "(continued)" and its header row again. With `strip`, a row carries a band of small images under its text
   * (an alert's examples), kept on the row's page with it.
   */
  table(t: ReportTable, caption?: string, opts: { strip?: (row: number) => RowStrip | null } = {}): void {
    const doc = this.doc
    const total = t.columns.reduce((a, c) => a + c.weight, 0)
    const widths = t.columns.map((c) => (c.weight / total) * this.width)
    const cellHeight = (cells: string[], font: string): number => {
      doc.font(font).fontSize(9)
      return Math.max(...cells.map((c, i) => doc.heightOfString(pdfText(c), { width: widths[i] - 2 * CELL_PAD }))) + 2 * CELL_PAD
    }
    // The band starts under the second column, so the first (a rank, a name) stays clear beside it.
    const stripLeft = this.left + widths[0] + CELL_PAD
    const strips = t.rows.map((_, r) => opts.strip?.(r) ?? null)
    const stripLayout = strips.map((s) => (s ? this.stripLayout(s, this.left + this.width - CELL_PAD - stripLeft) : null))
    const headerCells = t.columns.map((c) => c.label)
    const headerHeight = cellHeight(headerCells, FONT.bold)
    const drawRow = (cells: string[], height: number, font: string, fill: string | null, strip: StripLayout | null = null): void => {
      const y = doc.y
      if (fill) doc.rect(this.left, y, this.width, height).fill(fill)
      doc.fillColor(INK).font(font).fontSize(9)
      const textHeight = height - (strip?.height ?? 0)
      let x = this.left
      cells.forEach((c, i) => {
        doc.text(pdfText(c), x + CELL_PAD, y + CELL_PAD, { width: widths[i] - 2 * CELL_PAD, align: t.columns[i].align, height: textHeight - CELL_PAD, ellipsis: true })
        x += widths[i]
      })
      if (strip) this.drawStrip(strip, stripLeft, y + textHeight)
      doc.moveTo(this.left, y + height).lineTo(this.left + this.width, y + height).lineWidth(0.5).strokeColor(RULE).stroke()
      doc.y = y + height
      doc.x = this.left
    }
    const drawCaption = (continued: boolean): void => {
      if (!caption) return
      doc.font(FONT.bold).fontSize(9.5).fillColor(INK).text(pdfText(continued ? `${caption} (continued)` : caption), this.left, doc.y, { width: this.width })
      this.space(3)
    }
    const maxRow = this.bottom - this.doc.page.margins.top - headerHeight - 30
    const heights = t.rows.map((row, r) => Math.min(cellHeight(row, FONT.regular) + (stripLayout[r]?.height ?? 0), maxRow))
    // Caption, header and the first row together, so a header is never left alone at the foot of a page.
    this.ensure((caption ? 16 : 0) + headerHeight + (heights[0] ?? 0))
    drawCaption(false)
    drawRow(headerCells, headerHeight, FONT.bold, HEADER_FILL)
    let rowsOnPage = 0
    t.rows.forEach((row, r) => {
      const h = heights[r]
      // No lone last row on a continuation page: when only the final two rows overflow, both move on together.
      const lastTwo = r === t.rows.length - 2 && rowsOnPage > 1 && doc.y + h + heights[r + 1] > this.bottom
      if (doc.y + h > this.bottom || lastTwo) {
        rowsOnPage = 0
        this.newPage()
        drawCaption(true)
        drawRow(headerCells, headerHeight, FONT.bold, HEADER_FILL)
      }
      drawRow(row, h, FONT.regular, r % 2 === 1 ? ZEBRA : null, stripLayout[r])
      rowsOnPage++
    })
    if (t.rows.length === 0) this.paragraph('(no rows)', { colour: MUTED, size: 9 })
    if (t.note) {
      this.space(3)
      this.paragraph(t.note, { font: 'italic', colour: MUTED, size: 8.5, gap: 0 })
    }
    this.space(10)
  }

  /**
   * A strip's groups side by side, each its images in a row with a caption under them. Every image slot has the
   * same width (the strip's `slots` share the band) so thumbnails read at one scale down the table.
   */
  private stripLayout(strip: RowStrip, width: number): StripLayout {
    const slot = (width - (strip.slots - 1) * STRIP_GAP) / strip.slots
    const doc = this.doc.font(FONT.regular).fontSize(7)
    let x = 0
    const groups = strip.groups.map((g) => {
      const span = Math.max(1, g.images.length)
      const w = span * slot + (span - 1) * STRIP_GAP
      const placed = { ...g, x, width: w, captionHeight: doc.heightOfString(pdfText(g.caption), { width: w }) }
      x += w + STRIP_GAP
      return placed
    })
    const imageHeight = Math.max(0, ...strip.groups.flatMap((g) => g.images.map((i) => Math.min(slot * i.aspect, MAX_STRIP_IMAGE_HEIGHT))))
    const captionHeight = Math.max(0, ...groups.map((g) => g.captionHeight))
    return { slot, groups, imageHeight, height: imageHeight + captionHeight + 2 + CELL_PAD }
  }

  private drawStrip(layout: StripLayout, left: number, top: number): void {
    const doc = this.doc
    for (const g of layout.groups) {
      g.images.forEach((img, i) => {
        const h = Math.min(layout.slot * img.aspect, MAX_STRIP_IMAGE_HEIGHT)
        const w = h / img.aspect
        doc.image(img.data, left + g.x + i * (layout.slot + STRIP_GAP), top, { width: w, height: h })
      })
      doc.font(FONT.regular).fontSize(7).fillColor(MUTED).text(pdfText(g.caption), left + g.x, top + layout.imageHeight + 2, { width: g.width, lineBreak: true })
    }
    doc.fillColor(INK)
  }

  /** How a chart is laid out here: scaled to the column, and to a page with its title and caption, so it is never cut. */
  private chartLayout(chart: ReportChart): { scale: number; height: number; caption: string; captionHeight: number } {
    this.doc.font(FONT.italic).fontSize(8.5)
    const caption = pdfText(chart.caption)
    const captionHeight = this.doc.heightOfString(caption, { width: this.width })
    const pageRoom = this.bottom - this.doc.page.margins.top - 30 - captionHeight
    const scale = Math.min(1, this.width / chart.width, pageRoom / chart.height)
    return { scale, height: chart.height * scale, caption, captionHeight }
  }

  /** Points a chart takes with its title and caption: what a heading above it must keep free. */
  spaceFor(chart: ReportChart): number {
    const l = this.chartLayout(chart)
    return 16 + l.height + l.captionHeight + 6
  }

  /** A chart as vectors: the shared ECharts definition rendered to SVG server-side, with its caption under it. */
  chart(chart: ReportChart): void {
    const doc = this.doc
    const { scale, height: h, caption } = this.chartLayout(chart)
    this.ensure(this.spaceFor(chart))
    doc.font(FONT.bold).fontSize(10.5).fillColor(INK).text(pdfText(chart.title), this.left, doc.y, { width: this.width })
    this.space(2)
    const y = doc.y
    SVGtoPDF(doc, chartSvg(chart, scale), this.left, y, { width: chart.width * scale, height: h, assumePt: true, fontCallback: () => FONT.regular })
    doc.y = y + h + 2
    doc.font(FONT.italic).fontSize(8.5).fillColor(MUTED).text(caption, this.left, doc.y, { width: this.width })
    doc.fillColor(INK).font(FONT.regular).fontSize(10)
    this.space(12)
  }

  /** The contents, on the pages reserved for it after the title page, with links to each heading. */
  writeToc(firstPage: number): void {
    const doc = this.doc
    let page = firstPage
    doc.switchToPage(page)
    doc.font(FONT.bold).fontSize(18).fillColor(INK).text('Contents', this.left, doc.page.margins.top, { width: this.width })
    let y = doc.y + 10
    for (const e of this.toc) {
      if (y + 16 > this.bottom) {
        doc.switchToPage(++page)
        y = doc.page.margins.top
      }
      const indent = e.level === 1 ? 0 : 18
      const number = String(e.page + 1)
      doc.font(e.level === 1 ? FONT.bold : FONT.regular).fontSize(e.level === 1 ? 11 : 10)
      const numberWidth = doc.widthOfString(number)
      const title = pdfText(e.title)
      const titleWidth = Math.min(doc.widthOfString(title), this.width - indent - numberWidth - 30)
      doc.text(title, this.left + indent, y, { width: titleWidth + 1, lineBreak: false, ellipsis: true, goTo: e.destination })
      // Dot leader between title and page number.
      const dotsFrom = this.left + indent + titleWidth + 6
      const dotsTo = this.left + this.width - numberWidth - 6
      if (dotsTo > dotsFrom) {
        doc.font(FONT.regular).fillColor(MUTED)
        const dot = ' .'
        const n = Math.floor((dotsTo - dotsFrom) / doc.widthOfString(dot))
        doc.text(dot.repeat(n), dotsTo - n * doc.widthOfString(dot), y, { lineBreak: false })
        doc.fillColor(INK).font(e.level === 1 ? FONT.bold : FONT.regular)
      }
      doc.text(number, this.left + this.width - numberWidth, y, { lineBreak: false, goTo: e.destination })
      y += e.level === 1 ? 20 : 16
    }
  }

  /** "Page n of N" and the report's name on every page but the title page. */
  writeFooters(label: string): void {
    const doc = this.doc
    const count = this.pageCount
    for (let i = 1; i < count; i++) {
      doc.switchToPage(i)
      // Writing below the bottom margin would make pdfkit start a new page; lift the margin while we do.
      const margin = doc.page.margins.bottom
      doc.page.margins.bottom = 0
      const y = doc.page.height - 38
      doc.moveTo(this.left, y - 6).lineTo(this.left + this.width, y - 6).lineWidth(0.5).strokeColor(RULE).stroke()
      doc.font(FONT.regular).fontSize(8).fillColor(MUTED)
      doc.text(pdfText(label), this.left, y, { width: this.width / 2, lineBreak: false, ellipsis: true })
      doc.text(`Page ${i + 1} of ${count}`, this.left + this.width / 2, y, { width: this.width / 2, align: 'right', lineBreak: false })
      doc.page.margins.bottom = margin
    }
    doc.fillColor(INK)
  }

  end(): Promise<Buffer> {
    this.doc.end()
    return this.finished
  }
}
