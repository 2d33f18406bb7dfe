/**
 * Run ids: UUIDs of version 7 (RFC 9562), made here rather than by the
 * database. The first 48 bits are the Unix milliseconds, the rest random, so
 * runs enqueued together sit together in the primary key's B-tree (random
 * version 4 ids scatter every insert over the whole index), and a bulk insert
 * needs no `returning` to learn its ids.
 */
export const make = (count: number, millis: number): Array<string> => {
  const random = new Uint8Array(count * 10)
  // getRandomValues fills at most 65,536 bytes a call
  for (let at = 0; at < random.length; at += 65_536) crypto.getRandomValues(random.subarray(at, at + 65_536))
  const time = Math.max(0, Math.floor(millis)).toString(16).padStart(12, "0").slice(-12)
  const prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`
  const ids = new Array<string>(count)
  for (let n = 0; n < count; n++) {
    const r = n * 10
    // 12 random bits after the version nibble; the variant bits (10) then 14 random bits; 48 random bits
    const a = hex3((random[r]! << 4) | (random[r + 1]! >> 4))
    const b = hex4(0x8000 | ((random[r + 1]! & 0x0f) << 10) | (random[r + 2]! << 2) | (random[r + 3]! & 0x03))
    let c = ""
    for (let i = r + 4; i < r + 10; i++) c += byteHex[random[i]!]
    ids[n] = `${prefix}${a}-${b}-${c}`
  }
  return ids
}

const byteHex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const hex3 = (n: number) => (n & 0xfff).toString(16).padStart(3, "0")
const hex4 = (n: number) => (n & 0xffff).toString(16).padStart(4, "0")
