// The engine for programmatic use, outside Pi's UI: `import { runWorkflow } from "pi-workflows/engine"`. Runs,
// resumes and watches workflows with a model registry of your own; the report is the same as Pi's.

export type { RunReport } from "../store/report.js";
export type { PendingPrompt } from "./calls/prompt-board.js";
export {
	DEFAULT_CONCURRENCY,
	type ResumeWorkflowOptions,
	type RunWorkflowOptions,
	resumeWorkflow,
	runWorkflow,
	startWorkflow,
} from "./run.js";
export type { WorkflowRun } from "./run-driver.js";
