import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    // the tests run the built binary: build it (and what it imports) first
    globalSetup: ["test/build.ts"],
    // each test starts several real processes, each opening PostgreSQL or PGlite
    testTimeout: 600_000,
    hookTimeout: 180_000
  }
})
