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
import { openRunView, projectStore, type RunView } from "../../extensions/workflows/engine/runs.js";
import type { JournalEvent } from "../../extensions/workflows/store/events.js";
import type { RunStore } from "../../extensions/workflows/store/run-store.js";
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
	/** The project's run store (files under .pi/workflows/runs). */
	store: RunStore;
	/** A run as a surface sees it: report, pending questions, ownership. */
	view(runId: string): RunView;
	/** A run's journal events, as read (and migrated) now. */
	events(runId: string): JournalEvent[];
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
	const store = projectStore(cwd);
	return {
		cwd,
		agentDir,
		provider,
		modelRegistry,
		store,
		view: (runId) => openRunView(store, runId, { artifacts: true }),
		events: (runId) => store.read(runId).events,
		run: (definition, inputs, options) => runWorkflow(definition, inputs, { ...base(), ...options }),
		start: (definition, inputs, options) => startWorkflow(definition, inputs, { ...base(), ...options }),
		resume: (definition, runId, options) => resumeWorkflow(definition, { ...base(), runId, ...options }),
		cleanup: () => rmSync(root, { recursive: true, force: true }),
	};
}
