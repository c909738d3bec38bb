import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { AppInfo, ProjectSummary } from '@common/types'
import type { EventPayload } from '@common/contract'
import { isAppError } from '@common/errors'
import { api, transport } from '../api/client'

/** App-wide state: what the engine runs on, which project is open, and the last problem to show. */
export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null)
  const project = ref<ProjectSummary | null>(null)
  const error = ref<string | null>(null)
  const logs = ref<EventPayload<'log'>[]>([])
  const loading = ref(false)
  /** The first refresh has answered (or failed): until then the open project is not known, not "none". */
  const ready = ref(false)

  function report(err: unknown): void {
    error.value = isAppError(err) ? `${err.message} [${err.code}]` : String(err)
  }

  async function refresh(): Promise<void> {
    loading.value = true
    try {
      info.value = await api['app:info']({})
      project.value = await api['project:current']({})
      error.value = null
    } catch (err) {
      report(err)
    } finally {
      loading.value = false
      ready.value = true
    }
  }

  async function openProject(path: string, create: boolean): Promise<boolean> {
    try {
      project.value = create ? await api['project:create']({ path }) : await api['project:open']({ path })
      info.value = await api['app:info']({})
      error.value = null
      return true
    } catch (err) {
      report(err)
      return false
    }
  }

  transport.onEvent((e) => {
    if (e.event === 'log') logs.value = [...logs.value.slice(-99), e.payload]
  })

  return { info, project, error, logs, loading, ready, refresh, openProject, report, transportKind: transport.kind }
})
