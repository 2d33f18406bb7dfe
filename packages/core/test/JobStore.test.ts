import { run } from "../conformance/JobStoreSuite.js"
import { JobStore } from "../src/index.js"

run("memory", JobStore.layerMemory)
