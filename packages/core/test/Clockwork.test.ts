import { run } from "../conformance/ClockworkSuite.js"
import { run as runWorkflows } from "../conformance/WorkflowSuite.js"
import { JobStore } from "../src/index.js"

run("memory", JobStore.layerMemory)
runWorkflows("memory", JobStore.layerMemory)
