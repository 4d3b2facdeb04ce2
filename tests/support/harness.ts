// Test harness: a temp project folder, an isolated agent dir, and a model registry whose only
// provider is the scripted one. Everything else (sessions, files, journal) is real.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import type { AnyWorkflowDefinition } from "../../extensions/workflows/authoring/types.js";
import {
	type ResumeWorkflowOptions,
	type RunWorkflowOptions,
	resumeWorkflow,
	runWorkflow,
	startWorkflow,
} from "../../extensions/workflows/engine/run.js";
import { createInMemoryModelRegistry } from "../../extensions/workflows/testing/in-memory-models.js";
import {
	createScriptedProvider,
	type Script,
	type ScriptedProvider,
} from "../../extensions/workflows/testing/scripted-provider.js";

export interface Harness {
	cwd: string;
	agentDir: string;
	provider: ScriptedProvider;
	modelRegistry: ModelRegistry;
	run(
		definition: AnyWorkflowDefinition,
		inputs: unknown,
		options?: Partial<RunWorkflowOptions>,
	): ReturnType<typeof runWorkflow>;
	start(
		definition: AnyWorkflowDefinition,
		inputs: unknown,
		options?: Partial<RunWorkflowOptions>,
	): ReturnType<typeof startWorkflow>;
	/** Takes over a run of this project (as a new process would) and re-executes it. */
	resume(
		definition: AnyWorkflowDefinition,
		runId: string,
		options?: Partial<ResumeWorkflowOptions>,
	): ReturnType<typeof resumeWorkflow>;
	cleanup(): void;
}

export async function createHarness(script: Script, models: string[] = ["fast", "smart", "other"]): Promise<Harness> {
	const root = mkdtempSync(join(tmpdir(), "pi-workflows-test-"));
	const cwd = join(root, "project");
	const agentDir = join(root, "agent");
	const provider = createScriptedProvider({ models, script });
	const modelRegistry = await createInMemoryModelRegistry({ scripted: provider.config });
	const base = (): RunWorkflowOptions => ({
		cwd,
		agentDir,
		modelRegistry,
		defaultModel: `scripted/${models[0]}`,
	});
	mkdirSync(cwd, { recursive: true });
	return {
		cwd,
		agentDir,
		provider,
		modelRegistry,
		run: (definition, inputs, options) => runWorkflow(definition, inputs, { ...base(), ...options }),
		start: (definition, inputs, options) => startWorkflow(definition, inputs, { ...base(), ...options }),
		resume: (definition, runId, options) => resumeWorkflow(definition, { ...base(), runId, ...options }),
		cleanup: () => rmSync(root, { recursive: true, force: true }),
	};
}
