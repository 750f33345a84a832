export interface BusMessage {
  kind: 'set' | 'expire' | 'delete' | 'invalidate'
  key: string
  origin: string
  at?: number // 'invalidate' only: when the tag record was raised, epoch ms
}

export interface Bus {
  publish(message: BusMessage): Promise<void>
  subscribe(listener: (message: BusMessage) => void, options?: { onResubscribe?: () => void }): Promise<() => Promise<void>>
  close?(): Promise<void> // optional
}
