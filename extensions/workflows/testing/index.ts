// The testing kit for workflow authors: `import { testWorkflow, scripted } from "pi-workflows/testing"`.

export {
	type Answer,
	type GateAnswers,
	type ScriptedModel,
	scripted,
	type TestWorkflowOptions,
	testWorkflow,
	type WorkflowTestResult,
} from "./kit.js";
export type { ScriptedReply, ScriptedRequest } from "./scripted-provider.js";
