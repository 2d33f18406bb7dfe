/**
 * Due runs in claim order: highest priority first, then earliest runAt, then
 * insertion. One FIFO per priority: runs nearly always arrive in order, so a
 * push is an append and a pop takes the head, both O(1); a run that arrives
 * out of order is placed by binary search.
 */
export interface Ordered {
  readonly priority: number
  readonly runAt: number
  readonly seq: number
}

interface Level<A> {
  items: Array<A>
  head: number
}

const before = (x: Ordered, y: Ordered) => x.runAt !== y.runAt ? x.runAt < y.runAt : x.seq < y.seq

export class ReadyQueue<A> {
  private readonly levels = new Map<number, Level<A>>()
  /** priorities with a level, highest first */
  private readonly priorities: Array<number> = []
  private count = 0

  constructor(private readonly key: (a: A) => Ordered) {}

  get size(): number {
    return this.count
  }

  push(item: A): void {
    const k = this.key(item)
    let level = this.levels.get(k.priority)
    if (level === undefined) {
      level = { items: [], head: 0 }
      this.levels.set(k.priority, level)
      let i = 0
      while (i < this.priorities.length && this.priorities[i]! > k.priority) i++
      this.priorities.splice(i, 0, k.priority)
    }
    const items = level.items
    if (items.length === level.head || !before(k, this.key(items[items.length - 1]!))) {
      items.push(item)
    } else {
      let lo = level.head
      let hi = items.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (before(k, this.key(items[mid]!))) hi = mid
        else lo = mid + 1
      }
      items.splice(lo, 0, item)
    }
    this.count++
  }

  peek(): A | undefined {
    for (const priority of this.priorities) {
      const level = this.levels.get(priority)!
      if (level.head < level.items.length) return level.items[level.head]
    }
    return undefined
  }

  pop(): A | undefined {
    for (const priority of this.priorities) {
      const level = this.levels.get(priority)!
      if (level.head < level.items.length) {
        const item = level.items[level.head]!
        level.items[level.head++] = undefined as A
        this.count--
        if (level.head === level.items.length) {
          level.items = []
          level.head = 0
        } else if (level.head > 1024 && level.head * 2 > level.items.length) {
          level.items = level.items.slice(level.head)
          level.head = 0
        }
        return item
      }
    }
    return undefined
  }
}
