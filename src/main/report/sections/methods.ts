import type { ReportOptions } from '@common/methods/reports'
import type { ReportData } from '../data'
import { effectiveParams, paramLines } from '../params'
import type { PdfWriter } from '../writer'
import { methodName } from './title'

const PERTURBATION =
  'Grid saliency (Hoyer et al., NeurIPS 2019, Eq. 2) asks which part of the image the model needs to keep its prediction for class c inside a request region R (the pixels being explained). It optimises a low-resolution mask M in [0, 1], upsampled bilinearly to the image, that keeps the image where M is 1 and replaces it by an uninformative baseline image elsewhere. The loss is lambda times the L1 norm of M (keep as little as possible) plus the preservation term: the amount by which the score for c inside R on the perturbed image falls short of its score on the original image, averaged over R. The optimum is the smallest region that still supports the prediction.'

const CONTEXT =
  'Context saliency (Eq. 3) is grid saliency with the request itself always kept: the perturbed image is the image inside R and the baseline outside, with M deciding which context outside R is restored (x*M + p(x,R)*(1-M)). M then marks the least context the model needs to recover its original prediction inside R. An empty mask means the object alone was enough; saliency on a context class means the model used that class to label the request.'

const GRADIENT: Record<string, string> = {
  vg: 'Vanilla gradient (Eq. 4-5): the gradient of the mean score for c inside R with respect to the input, mean-filtered to the map resolution; its context form keeps only the part outside R.',
  ig: 'Integrated gradients (Eq. 4-5): gradients of the mean score for c inside R averaged along a path from the baseline to the image, mean-filtered to the map resolution; its context form keeps only the part outside R.',
  sg: 'SmoothGrad (Eq. 4-5): gradients of the mean score for c inside R averaged over copies of the image with Gaussian noise, mean-filtered to the map resolution; its context form keeps only the part outside R.'
}

/** What the numbers mean, in words, and every parameter the audit and its statistics used. */
export function methodsSection(w: PdfWriter, data: ReportData, options: ReportOptions): void {
  const { meta, stats } = data
  w.heading('Methods appendix', 1)
  w.heading('Saliency', 2)
  w.paragraph(PERTURBATION)
  w.paragraph(CONTEXT)
  if (GRADIENT[meta.method]) w.paragraph(GRADIENT[meta.method])
  w.paragraph(
    `This audit used ${methodName(meta.method).toLowerCase()} with the ${meta.preset} preset. Each request was a ${meta.selection.kinds.join(' or ')} region: the pixels of one ground-truth class that the model predicted as that class (correct) or as another class (misclassified), at least ${meta.selection.minArea} px, and the explained class was the one the model predicted there. The statistics group requests by their ground-truth class (a rider taken for a bicycle counts among the riders).`
  )
  w.heading('Statistics', 2)
  w.paragraph(
    `Share (Fig. 6): every context pixel (${stats.options.context === 'outside-request' ? "everything outside the request, the paper's C = 1 - R" : 'outside the request and outside the rest of the requested object, i.e. its ground-truth class connected to the request, whose saliency is reported apart'}) adds its saliency to its ground-truth class; per requested class these sums are taken over all explanations and images, then divided by their total, giving a distribution over context classes. Contour baseline: the same distribution with weight 1 on every pixel of a ring of radius ${stats.options.contourRadius} px around each request (a dilation of its contour), the context an explanation would point at if it spread evenly in every direction. Lift = share / baseline share.`
  )
  w.paragraph(
    'Density: saliency per context pixel of a class; density ratio = that density over the saliency per pixel of all context, so 1 means the class drew no more saliency than its area would. Table 1: the shares computed separately for the correct regions of a ground-truth class and for each class it was mistaken for.'
  )
  w.paragraph(
    `Intervals: a percentile bootstrap over images (${stats.options.bootstrapSamples} resamples, seed ${stats.options.seed}, ${Math.round(100 * stats.options.level)}% level), resampling whole images so explanations of one image move together. Alerts: share alert when the interval's lower end of share minus baseline share exceeds ${options.alerts.shareMargin}; density alert when the lower end of the density ratio exceeds ${options.alerts.densityRatio}; an alert on fewer than ${options.alerts.minExplanations} explanations or ${options.alerts.minImages} images is listed as insufficient evidence instead; ${stats.options.includeUnrecovered ? 'unrecovered explanations are counted' : "only explanations whose perturbed image recovered the model's score are counted"}; ${options.alerts.sameClass ? 'alerts of a class on other objects of its own class are included (asked for)' : 'a class raises no alert on other objects of its own class'}; up to ${options.alerts.examples} examples per alert, the explanations with the largest share on the alert's context class.`
  )
  w.heading('Parameters used', 2)
  w.table(
    {
      columns: [
        { label: 'Parameter', align: 'left', weight: 1 },
        { label: 'Value', align: 'left', weight: 2 }
      ],
      rows: [
        ['method', meta.method],
        ['preset', meta.preset],
        ...paramLines(effectiveParams(meta.params)),
        ['contour radius (px)', String(stats.options.contourRadius)],
        ['context', stats.options.context],
        ['bootstrap resamples', String(stats.options.bootstrapSamples)],
        ['bootstrap seed', String(stats.options.seed)],
        ['interval level', String(stats.options.level)],
        ['alert share margin', String(options.alerts.shareMargin)],
        ['alert density ratio', String(options.alerts.densityRatio)],
        ['alert minimum explanations', String(options.alerts.minExplanations)],
        ['alert minimum images', String(options.alerts.minImages)],
        ['unrecovered explanations counted', String(stats.options.includeUnrecovered)]
      ]
    },
    'Saliency and statistics parameters'
  )
}
