import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "node",
    include: ["test/**/*.test.ts"],
    // real threads on the real clock: a thread that loads a TypeScript worker
    // module through tsx takes a second or two to boot on a busy 2-core machine
    testTimeout: 30_000
  }
})
