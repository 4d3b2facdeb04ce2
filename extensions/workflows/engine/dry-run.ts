// A dry run: the workflow walks its real code against a stub model, so its graph, stage count and models show
// before anything is spent. Every model the host knows answers from the stub (a placeholder text; for a
// structured stage, an example its schema accepts), each question takes its first option, ctx.tool functions run
// only when allowed, and the run lives in a temp folder that is removed: nothing of the project is written (see
// DryRunSettings for what the engine holds back). A model the host does not know fails as it would for real.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelRegistry } from "@mariozechner/pi-coding-agent";
import type { TSchema } from "typebox";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import { FileRunStore } from "../store/file-store.js";
import { renderGraph } from "../store/graph-text.js";
import type { RunReport } from "../store/report.js";
import { stageGraphNodes } from "../store/report-markdown.js";
import { createInMemoryModelRegistry } from "../testing/in-memory-models.js";
import { createScriptedProvider, type ScriptedReply, type ScriptedRequest } from "../testing/scripted-provider.js";
import type { PendingPrompt } from "./calls/prompt-board.js";
import { startWorkflow } from "./run.js";
import type { WorkflowRun } from "./run-driver.js";

export interface DryRunOptions {
	/** The project: read by the workflow's code and stages as it is; never written. */
	cwd: string;
	/** The host's registry: its models are the ones the dry run knows (the stub answers for each). */
	modelRegistry: ModelRegistry;
	defaultModel?: string;
	agentDir?: string;
	/** ctx.tool functions that still run (by name), or all of them (true). Default: none. */
	allowTools?: boolean | readonly string[];
}

export interface DryRunResult {
	report: RunReport;
	/** The graph that ran, drawn as text. */
	graph: string[];
	stages: number;
	/** Each model the stages used, with how many stages used it. */
	models: Array<{ model: string; stages: number }>;
	/** What the dry run held back: tool calls not run, output files not written. */
	heldBack: string[];
}

/** The stub's answer: a structured stage gets an example of its schema; any other, a placeholder. */
function stubAnswer(request: ScriptedRequest): ScriptedReply {
	if (request.afterToolResult) return `(dry run: ${request.stage ?? "stage"} done)`;
	const schema = request.toolSchemas.submit_result;
	if (schema) return { toolCalls: [{ name: "submit_result", arguments: example(schema as TSchema) }] };
	return `(dry run: the answer of ${request.stage ?? "a stage"})`;
}

/** An example value the schema accepts, read as plain JSON Schema (Pi 1.x hands tools' schemas over as data, not
 * TypeBox values): each required property, the least items, the shortest string, the least number, the first
 * choice of a union or enum. */
function example(schema: TSchema): Record<string, unknown> {
	const value = exampleOf(schema as JsonSchema);
	return typeof value === "object" && value !== null && !Array.isArray(value)
		? (value as Record<string, unknown>)
		: {};
}

interface JsonSchema {
	type?: string | string[];
	properties?: Record<string, JsonSchema>;
	required?: string[];
	items?: JsonSchema;
	minItems?: number;
	minLength?: number;
	minimum?: number;
	exclusiveMinimum?: number;
	enum?: unknown[];
	const?: unknown;
	default?: unknown;
	anyOf?: JsonSchema[];
	oneOf?: JsonSchema[];
}

function exampleOf(schema: JsonSchema | undefined): unknown {
	if (!schema || typeof schema !== "object") return null;
	if (schema.default !== undefined) return schema.default;
	if (schema.const !== undefined) return schema.const;
	if (Array.isArray(schema.enum)) return schema.enum[0];
	const choice = schema.anyOf?.[0] ?? schema.oneOf?.[0];
	if (choice) return exampleOf(choice);
	const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
	switch (type ?? (schema.properties ? "object" : undefined)) {
		case "object": {
			const required = new Set(schema.required ?? Object.keys(schema.properties ?? {}));
			const entries = Object.entries(schema.properties ?? {}).filter(([key]) => required.has(key));
			return Object.fromEntries(entries.map(([key, property]) => [key, exampleOf(property)]));
		}
		case "array":
			return Array.from({ length: schema.minItems ?? 0 }, () => exampleOf(schema.items));
		case "string":
			return "x".repeat(Math.max(schema.minLength ?? 0, 0));
		case "integer":
		case "number":
			return schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
		case "boolean":
			return false;
		default:
			return null;
	}
}

/** A registry where each provider of the host's answers from the stub, with the same model ids. */
async function stubRegistry(host: ModelRegistry): Promise<ModelRegistry> {
	const byProvider = new Map<string, string[]>();
	for (const model of host.getAll())
		byProvider.set(model.provider, [...(byProvider.get(model.provider) ?? []), model.id]);
	const providers = Object.fromEntries(
		[...byProvider].map(([provider, ids]) => [
			provider,
			createScriptedProvider({ models: ids, script: stubAnswer }).config,
		]),
	);
	return createInMemoryModelRegistry(providers);
}

function firstOption(prompt: PendingPrompt): unknown {
	switch (prompt.kind) {
		case "confirm":
			return true;
		case "select":
			return prompt.options?.[0];
		case "editor":
			return prompt.initial ?? "(dry run)";
		default:
			return "(dry run)";
	}
}

/** Walks the workflow against the stub; throws, having written nothing, when its inputs are invalid. */
export async function dryRunWorkflow(
	definition: AnyWorkflowDefinition,
	inputs: unknown,
	options: DryRunOptions,
): Promise<DryRunResult> {
	const scratch = mkdtempSync(join(tmpdir(), "pi-workflows-dry-run-"));
	try {
		const modelRegistry = await stubRegistry(options.modelRegistry);
		let run: WorkflowRun | undefined;
		run = startWorkflow(definition, inputs, {
			cwd: options.cwd,
			modelRegistry,
			...(options.defaultModel ? { defaultModel: options.defaultModel } : {}),
			agentDir: options.agentDir ?? join(scratch, "agent"),
			store: new FileRunStore(join(scratch, "store")),
			dryRun: { allowTools: options.allowTools ?? false },
			onPrompt: (prompt) => queueMicrotask(() => run?.answer(prompt.id, firstOption(prompt))),
		});
		const report = await run.done;
		const counted = report.stages.filter((stage) => stage.kind === "task" || stage.kind === "stage");
		const models = new Map<string, number>();
		for (const stage of counted) if (stage.model) models.set(stage.model, (models.get(stage.model) ?? 0) + 1);
		return {
			report,
			graph: renderGraph(stageGraphNodes(report.stages)),
			stages: counted.length,
			models: [...models].map(([model, stages]) => ({ model, stages })),
			heldBack: report.warnings.filter((warning) => warning.startsWith("dry run: ")),
		};
	} finally {
		rmSync(scratch, { recursive: true, force: true });
	}
}
