import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router'

/** The screens; later issues fill them. Hash history works the same from file:// (Electron) and http:// (browser). */
export const screens = [
  { path: '/datasets', name: 'datasets', title: 'Datasets', key: 'd', component: () => import('../views/DatasetsView.vue') },
  { path: '/models', name: 'models', title: 'Models', key: 'm', component: () => import('../views/ModelsView.vue') },
  { path: '/image', name: 'image', title: 'Image', key: 'i', component: () => import('../views/ImageView.vue') },
  { path: '/errors', name: 'errors', title: 'Error cases', key: 'e', component: () => import('../views/ErrorCasesView.vue') },
  { path: '/bookmarks', name: 'bookmarks', title: 'Bookmarks', key: 'k', component: () => import('../views/BookmarksView.vue') },
  { path: '/jobs', name: 'jobs', title: 'Jobs', key: 'j', component: () => import('../views/JobsView.vue') },
  { path: '/reports', name: 'reports', title: 'Reports', key: 'r', component: () => import('../views/ReportsView.vue') },
  { path: '/benchmark', name: 'benchmark', title: 'Benchmark', key: 'b', component: () => import('../views/BenchmarkView.vue') }
] as const

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/datasets' },
  ...screens.map((s) => ({ path: s.path, name: s.name, component: s.component, meta: { title: s.title } }))
]

export const router = createRouter({ history: createWebHashHistory(), routes })
