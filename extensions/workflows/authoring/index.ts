// The public authoring API of pi-workflows: `import { workflow } from "pi-workflows"`.

export { ParallelError } from "./parallel-error.js";
export { RunStop } from "./run-stop.js";
export { StageError } from "./stage-error.js";
export type {
	AnyWorkflowDefinition,
	ChainOptions,
	ContextMode,
	ExitOptions,
	ExitStatus,
	InferSchema,
	OutputMode,
	ParallelOptions,
	ParallelResults,
	ParallelStep,
	Previous,
	StageResult,
	TaskOptions,
	TaskStep,
	ToolCallContext,
	ToolCallOptions,
	ToolCallResult,
	ToolFailure,
	Usage,
	WorkflowBudget,
	WorkflowContext,
	WorkflowDefinition,
	WorkflowUI,
} from "./types.js";
export { isWorkflowDefinition, type WorkflowSpec, workflow } from "./workflow.js";
export { WorkflowCancelled } from "./workflow-cancelled.js";
