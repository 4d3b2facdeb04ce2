// The model-facing `workflow` tool: list, describe, run (saved workflow or dynamic spec), status,
// pause, resume, steer, cancel and save. Failures throw, so the model sees them as tool errors.

import type { AgentToolResult } from "@mariozechner/pi-agent-core";
import { defineTool, type ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { Type } from "typebox";
import { parseBudgetText } from "../authoring/budget-spec.js";
import type { WorkflowBudget } from "../authoring/types.js";
import { DEFAULT_MAX_STAGES } from "../engine/budget.js";
import { definitionFromSpec, parseSpec, saveSpec, specModels } from "./dynamic-spec.js";
import { completionText, formatDryRun, formatRunDetails, formatRunList, formatWorkflowList } from "./format.js";
import { runManager } from "./run-manager.js";
import { renderWorkflowCall, renderWorkflowResult } from "./tool-render.js";
import { FAILED_STATUSES, type StartedRun, type WorkflowService } from "./workflow-service.js";

const ACTIONS = ["list", "describe", "run", "status", "answer", "pause", "resume", "steer", "cancel", "save"] as const;

export interface WorkflowToolDetails {
	action: string;
	runId?: string;
	status?: string;
	stages?: Array<{ id: string; status: string; model?: string }>;
}

export function registerWorkflowTool(pi: ExtensionAPI, service: WorkflowService): void {
	pi.registerTool(
		defineTool({
			name: "workflow",
			label: "Workflow",
			description:
				"Run multi-stage workflows: each stage is a separate Pi agent session with its own context, model and tools, tracked with a journal and report. " +
				"Actions: list, describe (inputs/outputs of one workflow), run ({workflow, inputs} or {spec} for a one-off workflow), status, " +
				"answer (a question a run waits on, when the user gave you the answer), pause, resume (a paused or interrupted run, optional message; finished stages are not run again), steer (a message to a running stage), cancel, " +
				"save (write a spec as a TypeScript workflow file).",
			promptSnippet:
				"Run saved or one-off multi-stage workflows (separate agent sessions per stage, tracked and resumable)",
			promptGuidelines: [
				"Use the workflow tool when a task needs several distinct steps that benefit from separate, focused contexts (scout then review in parallel then synthesize; plan then implement then verify), or when the user asks to run a workflow.",
				"Use workflow action list before run when you do not know the workflow names; use describe to see the inputs a workflow needs.",
				"For a one-off multi-step job, call workflow with action run and a spec (named steps with prompts; parallel groups for independent work; files via output/reads for large handoffs) instead of doing every step in this chat.",
				`Every workflow run may start at most ${DEFAULT_MAX_STAGES} stages unless its budget says otherwise; a run that reaches a limit ends blocked and is resumed with a larger budget (workflow action resume with budget).`,
			],
			parameters: Type.Object({
				// A plain string, so an unknown action reaches the tool and is refused with the list of valid ones.
				action: Type.String({ description: `What to do: one of ${ACTIONS.join(", ")}` }),
				workflow: Type.Optional(Type.String({ description: "Workflow name (describe, run)" })),
				inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Inputs for run" })),
				spec: Type.Optional(
					Type.Unknown({ description: "One-off workflow for run or save: { name, description, steps: [...] }" }),
				),
				run: Type.Optional(
					Type.String({ description: "Run id or unique prefix (status, pause, resume, steer, cancel)" }),
				),
				stage: Type.Optional(Type.String({ description: "Stage id to steer (steer)" })),
				prompt: Type.Optional(
					Type.String({ description: "For answer: the prompt id (default: the only one waiting)" }),
				),
				answer: Type.Optional(
					Type.String({ description: "For answer: yes/no, an option or its number, or text, as the user said" }),
				),
				message: Type.Optional(
					Type.String({
						description: "For steer: the message to the stage; for resume: a note for resumed stages",
					}),
				),
				path: Type.Optional(
					Type.String({ description: "For save: file name under .pi/workflows (default <spec name>.ts)" }),
				),
				dryRun: Type.Optional(
					Type.Boolean({
						description:
							"For run: walk the workflow against a stub model (no spending, nothing written, ctx.tool not run) and return the graph, stage count and models",
					}),
				),
				budget: Type.Optional(
					Type.Union([Type.String(), Type.Record(Type.String(), Type.Number())], {
						description: `For run and resume: limits for this run, as "cost=2,tokens=500k,stages=50,turns=80,tools=300,duration=30m" or { maxCostUsd, maxTokens, maxStages, maxTurns, maxToolCalls, maxDurationMs, warnAtPercent }. Default: at most ${DEFAULT_MAX_STAGES} stages.`,
					}),
				),
			}),
			renderCall: (args, theme) => renderWorkflowCall(args, theme),
			renderResult: (result, options, theme) =>
				renderWorkflowResult(result as AgentToolResult<WorkflowToolDetails | undefined>, options, theme),
			async execute(_toolCallId, params, _signal, _onUpdate, ctx) {
				const text = (value: string, details: WorkflowToolDetails) => ({
					content: [{ type: "text" as const, text: value }],
					details,
				});
				switch (params.action) {
					case "list": {
						const catalog = await service.catalog(ctx.cwd);
						return text(formatWorkflowList(catalog.list()), { action: "list" });
					}
					case "describe": {
						const definition = await service.resolve(required(params.workflow, "workflow", "describe"), ctx);
						const body = {
							name: definition.name,
							description: definition.description,
							inputs: definition.inputs,
							outputs: definition.outputs,
						};
						return text(JSON.stringify(body, null, 2), { action: "describe" });
					}
					case "run": {
						const budget = budgetParam(params.budget);
						const spec = params.spec !== undefined ? parseSpec(params.spec) : undefined;
						const { definition, source } = spec
							? {
									definition: definitionFromSpec(spec),
									source: { spec: params.spec, models: specModels(spec) },
								}
							: await service.resolveEntry(workflowOrSpec(params.workflow), ctx).then((entry) => ({
									definition: entry.definition,
									source: { workflowFile: entry.file },
								}));
						if (params.dryRun) {
							const result = await service.dryRun(definition, params.inputs ?? {}, ctx, false);
							return text(formatDryRun(definition.name, result), {
								action: "run",
								status: result.report.status,
							});
						}
						const started = await service.start(definition, params.inputs ?? {}, ctx, "model", {
							...source,
							...(budget ? { budget } : {}),
						});
						return startedText(started, "run", `Started workflow "${definition.name}" as run`, ctx.cwd);
					}
					case "answer": {
						const runId = runManager().resolve(ctx.cwd, required(params.run, "run", "answer"));
						const { message, resumed } = await service.answer(
							runId,
							params.prompt,
							required(params.answer, "answer", "answer"),
							ctx,
							"model",
						);
						if (resumed) {
							// No process drove the run: the answer was journaled and the run resumed to its next stop.
							const result = startedText(resumed, "answer", "Resumed", ctx.cwd);
							return {
								...result,
								content: [{ type: "text" as const, text: `${message}\n${result.content[0]?.text}` }],
							};
						}
						return text(message, { action: "answer", runId });
					}
					case "resume": {
						const runId = runManager().resolve(ctx.cwd, required(params.run, "run", "resume"));
						const budget = budgetParam(params.budget);
						const started = await service.resume(runId, params.message, ctx, "model", budget ? { budget } : {});
						return startedText(started, "resume", "Resumed", ctx.cwd);
					}
					case "pause":
					case "cancel": {
						const runId = runManager().resolve(ctx.cwd, required(params.run, "run", params.action));
						const type = params.action === "pause" ? "pause" : "cancel";
						const message = await service.control(
							runId,
							{ type, reason: `${type === "pause" ? "paused" : "cancelled"} by the model` },
							ctx,
						);
						const status = runManager().report(ctx.cwd, runId).status;
						return text(message, { action: params.action, runId, status });
					}
					case "steer": {
						const runId = runManager().resolve(ctx.cwd, required(params.run, "run", "steer"));
						const stageId = required(params.stage, "stage", "steer");
						const message = await service.control(
							runId,
							{ type: "steer", stageId, message: required(params.message, "message", "steer") },
							ctx,
						);
						return text(message, { action: "steer", runId });
					}
					case "status": {
						if (!params.run) {
							return text(formatRunList(runManager().listings(ctx.cwd)), { action: "status" });
						}
						const runId = runManager().resolve(ctx.cwd, params.run);
						const report = runManager().report(ctx.cwd, runId);
						return text(formatRunDetails(report, ctx.cwd), {
							action: "status",
							runId,
							status: report.status,
							stages: stagesOf(report),
						});
					}
					case "save": {
						const saved = saveSpec(parseSpec(params.spec), ctx.cwd, params.path);
						await service.reload(ctx.cwd);
						return text(
							`Saved workflow "${saved.name}" to ${saved.file}. Run it with workflow action run and workflow "${saved.name}".`,
							{
								action: "save",
							},
						);
					}
					default:
						throw new Error(`Unknown action "${String(params.action)}": expected one of ${ACTIONS.join(", ")}`);
				}
			},
		}),
	);
}

/** What run and resume answer: the final report when the run was awaited (headless), else its id. */
function startedText(started: StartedRun, action: "run" | "resume" | "answer", intro: string, cwd: string) {
	const runId = started.managed.run.runId;
	const final = started.final;
	if (final) {
		if (FAILED_STATUSES.has(final.status)) throw new Error(completionText(final, cwd));
		return {
			content: [{ type: "text" as const, text: completionText(final, cwd) }],
			details: { action, runId, status: final.status, stages: stagesOf(final) } satisfies WorkflowToolDetails,
		};
	}
	const textValue = `${intro} ${runId} in the background. You will get a message when it ends; use workflow action status to check on it.`;
	return {
		content: [{ type: "text" as const, text: textValue }],
		details: { action, runId, status: "running" } satisfies WorkflowToolDetails,
	};
}

/** The tool's budget: the text form or an object of limits (checked, with the rest of the run, at its start). */
function budgetParam(value: string | Record<string, number> | undefined): WorkflowBudget | undefined {
	if (value === undefined) return undefined;
	if (typeof value !== "string") return value as WorkflowBudget;
	const parsed = parseBudgetText(value);
	if (!parsed.ok) throw new Error(`workflow: budget: ${parsed.error.replace(/^--budget /, "")}; nothing was started`);
	return parsed.budget;
}

/** `run` takes a saved workflow's name or a one-off spec. */
function workflowOrSpec(workflow: string | undefined): string {
	if (!workflow) {
		throw new Error(
			'workflow action "run" needs "workflow" (the name of a saved workflow; action list shows them) or "spec" (a one-off workflow as data), got neither',
		);
	}
	return workflow;
}

function required(value: string | undefined, key: string, action: string): string {
	if (!value) throw new Error(`workflow action "${action}" needs "${key}"`);
	return value;
}

function stagesOf(report: { stages: Array<{ id: string; status: string; model?: string }> }) {
	return report.stages.map((stage) => ({ id: stage.id, status: stage.status, model: stage.model }));
}
