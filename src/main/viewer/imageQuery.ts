import type { ImageFilter, ImageListItem, ImageSort } from '@common/methods/viewer'
import type { Project } from '@main/store/project'

/** The dataset browser's image pages; the filtering and sorting is SQL and lives in the store (ImageListRepo). */
export function listImages(
  project: Project,
  query: ImageFilter & { sort: ImageSort; descending: boolean; offset: number; limit: number }
): { total: number; items: ImageListItem[]; bySplit: Record<string, number> } {
  return project.imageList.page(query)
}

export function imageItem(project: Project, imageId: number, modelId: number | null): ImageListItem | null {
  return project.imageList.item(imageId, modelId)
}
