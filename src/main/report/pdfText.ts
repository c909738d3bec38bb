/**
 * pdfkit's standard fonts (the only ones shipped with it, so nothing is fetched or bundled) encode text as
 * WinAnsi: Latin-1 plus a few typographic marks. Anything else would print as a wrong glyph, so symbols we use get
 * an ASCII spelling and other characters a visible '?'.
 */
const SPELLED: Record<string, string> = {
  '←': '<-',
  '→': '->',
  '×': 'x',
  '−': '-',
  '≥': '>=',
  '≤': '<=',
  '≈': '~',
  'λ': 'lambda',
  'σ': 'sigma',
  'μ': 'mu',
  'Δ': 'delta',
  '∘': '*',
  '\u2009': ' ',
  '\u202f': ' '
}

const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ')

export function pdfText(text: string): string {
  let out = ''
  for (const ch of text) {
    const code = ch.codePointAt(0)!
    if (SPELLED[ch] !== undefined) out += SPELLED[ch]
    else if (code === 0x0a || code === 0x09 || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch)) out += ch
    else out += '?'
  }
  return out
}
