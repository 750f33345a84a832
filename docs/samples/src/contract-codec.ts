export interface Codec {
  encode(value: unknown): string
  decode(data: string): unknown
}
