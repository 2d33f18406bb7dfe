import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    // the tests run the built binary: build it (and what it imports) first
    globalSetup: ["test/build.ts"],
    // each test starts many processes, each opening PostgreSQL or PGlite (PGlite takes seconds of
    // CPU): they run after the other projects, one file at a time, so that they do not starve the
    // timing-sensitive suites of a 2-core machine
    sequence: { groupOrder: 1 },
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 180_000
  }
})
