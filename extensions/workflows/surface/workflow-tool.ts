// The model-facing `workflow` tool: list, describe, run (saved workflow or dynamic spec), status,
// cancel and save. Failures throw, so the model sees them as tool errors.

import type { AgentToolResult } from "@mariozechner/pi-agent-core";
import { StringEnum } from "@mariozechner/pi-ai";
import { defineTool, type ExtensionAPI } from "@mariozechner/pi-coding-agent";
import { Type } from "typebox";
import { definitionFromSpec, parseSpec, saveSpec } from "./dynamic-spec.js";
import { completionText, formatRunDetails, formatRunLine, formatWorkflowList } from "./format.js";
import { runManager } from "./run-manager.js";
import { renderWorkflowCall, renderWorkflowResult } from "./tool-render.js";
import type { WorkflowService } from "./workflow-service.js";

const ACTIONS = ["list", "describe", "run", "status", "cancel", "save"] as const;

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
				"Actions: list, describe (inputs/outputs of one workflow), run ({workflow, inputs} or {spec} for a one-off workflow), status, cancel, save (write a spec as a TypeScript workflow file).",
			promptSnippet:
				"Run saved or one-off multi-stage workflows (separate agent sessions per stage, tracked and resumable)",
			promptGuidelines: [
				"Use the workflow tool when a task needs several distinct steps that benefit from separate, focused contexts (scout then review in parallel then synthesize; plan then implement then verify), or when the user asks to run a workflow.",
				"Use workflow action list before run when you do not know the workflow names; use describe to see the inputs a workflow needs.",
				"For a one-off multi-step job, call workflow with action run and a spec (named steps with prompts; parallel groups for independent work; files via output/reads for large handoffs) instead of doing every step in this chat.",
			],
			parameters: Type.Object({
				action: StringEnum(ACTIONS, { description: "What to do" }),
				workflow: Type.Optional(Type.String({ description: "Workflow name (describe, run)" })),
				inputs: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Inputs for run" })),
				spec: Type.Optional(
					Type.Unknown({ description: "One-off workflow for run or save: { name, description, steps: [...] }" }),
				),
				run: Type.Optional(Type.String({ description: "Run id or unique prefix (status, cancel)" })),
				path: Type.Optional(
					Type.String({ description: "For save: file name under .pi/workflows (default <spec name>.ts)" }),
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
						const definition =
							params.spec !== undefined
								? definitionFromSpec(parseSpec(params.spec))
								: await service.resolve(required(params.workflow, "workflow", "run"), ctx);
						const { managed, final } = await service.start(definition, params.inputs ?? {}, ctx, "model");
						const runId = managed.run.runId;
						if (final) {
							if (final.status !== "completed") throw new Error(completionText(final, ctx.cwd));
							return text(completionText(final, ctx.cwd), {
								action: "run",
								runId,
								status: final.status,
								stages: stagesOf(final),
							});
						}
						return text(
							`Started workflow "${definition.name}" as run ${runId} in the background. You will get a message when it ends; use workflow action status to check on it.`,
							{ action: "run", runId, status: "running" },
						);
					}
					case "status": {
						if (!params.run) {
							const ids = runManager().allRunIds(ctx.cwd);
							const lines = ids.map((id) => formatRunLine(runManager().report(ctx.cwd, id)));
							return text(lines.length > 0 ? lines.join("\n") : "No workflow runs yet.", { action: "status" });
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
					case "cancel": {
						const runId = runManager().resolve(ctx.cwd, required(params.run, "run", "cancel"));
						const live = runManager().get(runId);
						if (!live || live.final)
							throw new Error(`Run ${runId} is not running in this process; nothing to cancel.`);
						live.run.cancel("cancelled by the model");
						const report = await live.run.done;
						return text(`Run ${runId} ${report.status}.`, { action: "cancel", runId, status: report.status });
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

function required(value: string | undefined, key: string, action: string): string {
	if (!value) throw new Error(`workflow action "${action}" needs "${key}"`);
	return value;
}

function stagesOf(report: { stages: Array<{ id: string; status: string; model?: string }> }) {
	return report.stages.map((stage) => ({ id: stage.id, status: stage.status, model: stage.model }));
}
