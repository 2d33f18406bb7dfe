import { run } from "../conformance/ClockworkSuite.js"
import { JobStore } from "../src/index.js"

run("memory", JobStore.layerMemory)
