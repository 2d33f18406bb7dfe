/** A binary min-heap ordered by `less`. */
export class Heap<A> {
  private readonly items: Array<A> = []
  constructor(private readonly less: (a: A, b: A) => boolean) {}

  get size(): number {
    return this.items.length
  }

  peek(): A | undefined {
    return this.items[0]
  }

  push(item: A): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): A | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      this.siftDown(0)
    }
    return top
  }

  /** Keeps only the items `keep` accepts, in linear time (one rebuild rather than a pop per item). */
  retain(keep: (a: A) => boolean): void {
    const items = this.items
    let n = 0
    for (let i = 0; i < items.length; i++) if (keep(items[i]!)) items[n++] = items[i]!
    items.length = n
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private siftDown(from: number): void {
    const items = this.items
    let i = from
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && this.less(items[l]!, items[m]!)) m = l
      if (r < items.length && this.less(items[r]!, items[m]!)) m = r
      if (m === i) break
      ;[items[i], items[m]] = [items[m]!, items[i]!]
      i = m
    }
  }
}
