/** The single IPC channel for push events; method calls use their own `<area>:<method>` names as channels. */
export const EVENT_CHANNEL = 'ctxlens:event'
