import { describe, expect, it } from 'vitest'
import { fbm, valueNoise } from '@main/datasets/streetScenes/noise'
import { pickExcluding } from '@main/datasets/textureMnist/bias'
import { shuffledOrder, splitTrainValidation } from '@main/engine/training/data'
import {
  createRng,
  fmix32,
  HASH_FAMILY,
  hash01,
  hashInts,
  mulberry32,
  normalStream,
  seededNormal,
  seededUniform,
  shuffleInPlace,
  uniform01,
  uniformStream
} from '@main/prng'

/**
 * The seeded streams, frozen. Every generated dataset (texture-MNIST, the street scenes the demo model was trained
 * on), the committed benchmark models' training order, SmoothGrad noise, noise baselines, the faithfulness check's
 * random orders and the sanity check's re-initialised weights are functions of these sequences, and so are many
 * tests' expected values. The literals were printed by the generators as they were before issue 14 merged them
 * into src/main/prng.ts; a change to any stream fails here before it silently changes a dataset or a result.
 */
// Printed from the generators before issue 14 (see above); never edit by hand.
const RECORDED = {
  mulberry32: [
    [1144304738, 1416247, 958946056, 627933444, 2007157716, 2340967985],
    [2693262067, 11749833, 2265367787, 4213581821, 4159151403, 1207330352],
    [2581720956, 1925393290, 3661312704, 2876485805, 750819978, 2261697747],
    [4043151706, 1147597007, 3315858022, 1538288752, 2042435954, 3600176436],
    [1860010037, 1397564179, 2337619704, 2062400319, 209248909, 176908872],
    [2962560684, 3318907087, 943874942, 2676532661, 365661495, 2543329052]
  ],
  uniform01: [
    [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197, 0.1462021479383111, 0.46732782293111086, 0.5450490827206522],
    [0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741, 0.9683778982143849, 0.281103502959013],
    [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693, 0.17481389874592423, 0.5265925421845168],
    [0.9413696140982211, 0.26719574979506433, 0.772033357527107, 0.35816076025366783, 0.47554167779162526, 0.8382313968613744],
    [0.43306733411736786, 0.32539576734416187, 0.5442695003002882, 0.48018999374471605, 0.048719558166339993, 0.041189806535840034],
    [0.6897749109193683, 0.7727432732935995, 0.21976301027461886, 0.6231788222212344, 0.08513720124028623, 0.5921649402007461]
  ],
  shuffle: [
    [7, 8, 3, 2, 1, 5, 9, 4, 0, 6],
    [0, 9, 4, 1, 6, 5, 3, 8, 2, 7],
    [1, 9, 3, 5, 6, 0, 8, 4, 7, 2]
  ],
  fmix32: [0, 1364076727, 3816608188, 2180083513, 2855707116],
  hashInts: [
    [0, 588686121, 2675804727, 3644805955, 617157372, 1969542875],
    [625341585, 2890466529, 2553408281, 2589627324, 3433522675, 3020368174],
    [2654435769, 2940605474, 2150628020, 491948973, 2167604300, 4019744434],
    [1511506142, 2566986081, 3552357554, 2262134615, 865934852, 2959851648]
  ],
  streetHash: [625341585, 2890466529, 2553408281, 2589627324, 3433522675, 3020368174],
  textureHash: [2654435769, 2940605474, 2150628020, 491948973, 2167604300, 4019744434],
  streetRng: [
    [0.6270739405881613, 0, 0.6372351997997612, false, "d", 0.07011767167925424, 4272732017, 0.45527112716808915, 4, -1.305332083022222, false, "a", -1.5491008040088983, 3294703884, 0.28586167353205383, 1, -1.7863514500204474, false, "c", -0.0742122838532999, 2345405884],
    [0.07329497812315822, 7, 2.5142800954636186, false, "a", -0.898527691244969, 547570102, 0.544306228403002, 3, 2.971214848337695, false, "b", -0.06794179724478135, 3729246864, 0.5020763780921698, 9, 2.57138070021756, true, "c", 0.42098987846365465, 4205123405],
    [0.6037914503831416, 2, 0.03643375774845481, true, "a", 0.7551253231235626, 498467195, 0.3146657960023731, 3, -1.3519668828230351, false, "d", -0.4972190018218546, 976355250, 0.23012163117527962, 7, 1.294665168505162, true, "c", 1.3011143313539966, 3678219914]
  ],
  hash01: [
    [0, 0.06982020963914692, 0.7381148466374725, 0.5660015183966607, 0.8148227597121149],
    [0.7970783591736108, 0.35153208998963237, 0.8016372334677726, 0.017883405089378357, 0.25284323934465647],
    [0.23765396769158542, 0.7845514251384884, 0.9432624240871519, 0.37713846866972744, 0.6165927606634796]
  ],
  valueNoise: [
    [0, 0.10287001101096394, 0.40738337722541373, 0.9837565865174897],
    [0.5766752967610955, 0.339745027016761, 0.2676794179591386, 0.6600893004282885]
  ],
  fbm: [
    [0.21387243090829253, 0.18920064216102467, 0.4452411958517294, 0.7939977806525769],
    [0.5783717295223121, 0.6807088721686946, 0.5347222438124902, 0.7647721173382633]
  ],
  textureRng: [
    [0.7202267837710679, 0, 0.4561921926215291, 0, 763],
    [0.4256013557314873, 1, 0.6960067297331989, 3, 115],
    [0.6025003297254443, 4, 0.01295556197874248, 5, 255]
  ],
  pickExcluding: [
    [17, 20, 0],
    [13, 3, 2]
  ],
  uniformStream: [
    [0.6500330672133714, 0.8983603273518384, 0.9626237363554537, 0.3998258449137211, 0.9976877861190587],
    [0.3920963299460709, 0.18508162768557668, 0.3816142836585641, 0.295820138650015, 0.39034425956197083],
    [0.62125198636204, 0.5308977062813938, 0.8277236903086305, 0.12433636677451432, 0.7767506544478238],
    [0.46805185615085065, 0.8616066160611808, 0.5156748876906931, 0.25619988585822284, 0.8039722717367113],
    [0.6334356707520783, 0.22325647342950106, 0.5678770637605339, 0.7491706155706197, 0.7721677159424871]
  ],
  seededUniform: [
    [0.9619330763816833, 1.4921611547470093, -0.45152661204338074, 0.0026712766848504543, 0.6154896020889282],
    [0.6500330567359924, 0.8983603119850159, 0.9626237154006958, 0.3998258411884308]
  ],
  seededNormal: [
    [0.11873374879360199, 0.2747640609741211, -0.08351562917232513, 0.2820298969745636, -0.2457740753889084, -0.16932234168052673, -0.1835675835609436],
    [1.1842561960220337, 1.0403926372528076, 0.9524838924407959, -0.5918506383895874, 0.6216135621070862, -0.37576746940612793],
    [0.35259735584259033, 0.05504896119236946, -0.1675625741481781, -0.009325196966528893, 0.6643093824386597],
    [0.07248955965042114, -0.08584549278020859, -0.004689617082476616, 0.1203244999051094]
  ],
  shuffledOrder: [
    [10, 16, 18, 8, 6, 20, 4, 0, 2, 12, 22, 14],
    [20, 16, 12, 4, 14, 10, 2, 6, 8, 18, 0, 22],
    [22, 18, 20, 16, 0, 2, 6, 8, 10, 14, 12, 4],
    [14, 16, 18, 4, 12, 2, 6, 8, 0, 10, 20, 22]
  ],
  // randomiseLayers.ts's own Box–Muller (a private function then), run on uniform01(seed).
  boxMuller: [
    [1.4043387784152637, 0.024141617523036025, 1.2157546192705377, -0.14543594087912323, -0.5103768768108126, 2.5782384300467514, -0.2518183315501483],
    [-0.7390852612848761, 1.4505718207207203, -0.7964215030090792, -0.19361446280034084, -1.3889867154740847, -1.4947278864114826, -0.7338456910221889],
    [-0.9688885529387421, 0.9691560938053451, -0.5001159865970525, 0.18196887972996692, 0.2963712610587387, 0.7355753409299584, 0.09729961908738133]
  ],
  splitTrainValidation: [
    [
      [0, 1, 2, 3, 4, 7, 9, 10, 13, 14, 15, 16, 17, 18, 19],
      [5, 6, 8, 11, 12]
    ]
  ],
}

const SEEDS = [0, 1, 42, 0xdeadbeef, -7, 2 ** 32 + 5]
const VALUES = [[], [7], [1, 2, 3], [3, 2, 1], [123456789, 2, 17], [-1, 0x80000000]]
const COORDS = [[0, 0], [1, 0], [0, 1], [17, -4], [1000, 333]]
const FRACTIONAL_COORDS = [[0, 0], [0.5, 0.25], [3.7, -1.2], [12.01, 7.99]]
const take = (next: () => number, n: number): number[] => Array.from({ length: n }, next)

describe('the seeded streams are the ones every stored result was made with', () => {
  it('mulberry32, as 32-bit integers and as uniforms in [0, 1), for any integer seed (taken mod 2³²)', () => {
    expect(SEEDS.map((s) => take(mulberry32(s), 6))).toEqual(RECORDED.mulberry32)
    expect(SEEDS.map((s) => take(uniform01(s), 6))).toEqual(RECORDED.uniform01)
  })

  it('Fisher–Yates draws in the recorded order', () => {
    const shuffled = [1, 2, 99].map((s) => {
      const a = Array.from({ length: 10 }, (_, i) => i)
      shuffleInPlace(a, uniform01(s))
      return a
    })
    expect(shuffled).toEqual(RECORDED.shuffle)
  })

  it('the seed hashes: fmix32 and hashInts, in every family in use', () => {
    expect([0, 1, 0x12345678, 0xffffffff, -3].map(fmix32)).toEqual(RECORDED.fmix32)
    expect([0, 0x2545f491, 0x9e3779b9, 0x5a17c0de].map((f) => VALUES.map((v) => hashInts(f, v)))).toEqual(RECORDED.hashInts)
    expect(VALUES.map((v) => hashInts(HASH_FAMILY.streetScenes, v))).toEqual(RECORDED.streetHash)
    expect(VALUES.map((v) => hashInts(HASH_FAMILY.textureMnist, v))).toEqual(RECORDED.textureHash)
    expect(RECORDED.hashInts.slice(1)).toEqual([RECORDED.streetHash, RECORDED.textureHash, VALUES.map((v) => hashInts(HASH_FAMILY.randomisedWeights, v))])
  })

  it("the street scenes' Rng, call by call (uniform, int, range, chance, pick, the four-uniform normal, u32)", () => {
    const calls = [1, 1234, 0xfeedface].map((s) => {
      const r = createRng(s)
      const xs: unknown[] = []
      for (let k = 0; k < 3; k++) xs.push(r.next(), r.int(10), r.range(-2, 3), r.chance(0.3), r.pick(['a', 'b', 'c', 'd']), r.normal(), r.u32())
      return xs
    })
    expect(calls).toEqual(RECORDED.streetRng)
  })

  it("the street scenes' coordinate hash and value noise", () => {
    expect([0, 5, 0x3c6ef372].map((s) => COORDS.map(([x, y]) => hash01(s, x, y)))).toEqual(RECORDED.hash01)
    expect([0, 11].map((s) => FRACTIONAL_COORDS.map(([x, y]) => valueNoise(s, x, y)))).toEqual(RECORDED.valueNoise)
    expect([0, 37].map((s) => FRACTIONAL_COORDS.map(([x, y]) => fbm(s, x, y)))).toEqual(RECORDED.fbm)
  })

  it("texture-MNIST's Rng and its pick among the ids not excluded", () => {
    const calls = [3, 77, 3 + 5 * 0x9e3779b1].map((s) => {
      const r = createRng(s)
      return [r.next(), r.int(25), r.next(), r.int(7), r.int(1000)]
    })
    expect(calls).toEqual(RECORDED.textureRng)
    const picks = [5, 6].map((s) => {
      const r = createRng(s)
      return [pickExcluding(r, 25, [3]), pickExcluding(r, 25, [0, 1, 2]), pickExcluding(r, 5, [4])]
    })
    expect(picks).toEqual(RECORDED.pickExcluding)
  })

  it("saliency's numbered streams: uniforms, noise baselines and SmoothGrad's Box–Muller normals (odd lengths too)", () => {
    expect([[0, 0], [5, 0], [5, 1], [7, 3], [-2, 9]].map(([s, k]) => take(uniformStream(s, k), 5))).toEqual(RECORDED.uniformStream)
    expect([Array.from(seededUniform(5, -1, 2, 5, 2)), Array.from(seededUniform(4, 0, 1, 0))]).toEqual(RECORDED.seededUniform)
    const normals = [seededNormal(7, 0.3, 5, 0), seededNormal(6, 1, 3, 2), seededNormal(5, 0.25, 0, 1), seededNormal(4, 0.1, 7, 3)]
    expect(normals.map((x) => Array.from(x))).toEqual(RECORDED.seededNormal)
  })

  it("the sanity check's Box–Muller normals, which carry the spare sine over to the next draw", () => {
    expect([1, 2, 0x5a17c0de].map((s) => take(normalStream(uniform01(s)), 7))).toEqual(RECORDED.boxMuller)
  })

  it("training's epoch orders and validation split", () => {
    const items = Array.from({ length: 12 }, (_, i) => i * 2)
    expect([[7, 0], [7, 1], [8, 0], [0, -1]].map(([s, e]) => Array.from(shuffledOrder(items, s, e)))).toEqual(RECORDED.shuffledOrder)
    const { train, validation } = splitTrainValidation(20, 0.25, 3)
    expect([[Array.from(train), Array.from(validation)]]).toEqual(RECORDED.splitTrainValidation)
  })
})
