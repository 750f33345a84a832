export interface BusMessage {
  kind: 'set' | 'expire' | 'delete' | 'invalidate'
  key: string
  origin: string
  at?: number // 'invalidate' only: when the tag record was raised, epoch ms
  fence?: number // 'set' only: the fence of the entry written, where the publisher knows it
}

export interface Bus {
  publish(message: BusMessage): Promise<void>
  subscribe(listener: (message: BusMessage) => void, options?: { onResubscribe?: () => void }): Promise<() => Promise<void>>
  close?(): Promise<void> // optional
}
