// The pi-workflows extension entry: wiring only. Registers the `workflow` tool, the `/workflow`
// command and the --trust-workflows flag, and binds the live run view to the current session.

import type { ExtensionAPI, ExtensionContext } from "@mariozechner/pi-coding-agent";
import { projectStore, resumableRuns } from "./engine/runs.js";
import { modelHost } from "./stages/model-host.js";
import { RUN_MESSAGE, registerChatRenderers } from "./surface/chat-output.js";
import { completionText, resumableNotice } from "./surface/format.js";
import { piMode } from "./surface/pi-mode.js";
import { askWithDialog, promptNotice } from "./surface/prompt-view.js";
import { runManager } from "./surface/run-manager.js";
import { createRunView } from "./surface/widget.js";
import { registerWorkflowCommand } from "./surface/workflow-command.js";
import { TRUST_FLAG, WorkflowService } from "./surface/workflow-service.js";
import { registerWorkflowTool } from "./surface/workflow-tool.js";

export default function piWorkflows(pi: ExtensionAPI): void {
	// A Pi whose API lacks what stages need fails here, once, naming its version and what is missing.
	modelHost();
	const service = new WorkflowService(pi);
	let cwd = process.cwd();
	let view: ReturnType<typeof createRunView> | undefined;

	pi.registerFlag(TRUST_FLAG, {
		description: "Allow project workflow files (.pi/workflows) to run without asking (headless modes)",
		type: "boolean",
		default: false,
	});
	registerWorkflowTool(pi, service);
	registerChatRenderers(pi);
	registerWorkflowCommand(pi, service, () => cwd);

	pi.on("session_start", async (_event, ctx: ExtensionContext) => {
		cwd = ctx.cwd;
		view?.dispose();
		const manager = runManager();
		manager.modelRegistry = ctx.modelRegistry;
		view = ctx.hasUI ? createRunView(manager, ctx) : undefined;
		// Runs outlive sessions: the newest session's UI and chat receive their progress and results.
		manager.setListener((run, ended) => {
			view?.refresh();
			if (!ended || !run.final || !ctx.hasUI) return;
			pi.sendMessage(
				{
					customType: RUN_MESSAGE,
					content: completionText(run.final, run.cwd),
					display: true,
					details: { runId: run.run.runId, status: run.final.status },
				},
				{ triggerTurn: run.startedBy === "model", deliverAs: "followUp" },
			);
		});
		// Questions of background runs: rpc clients get the dialog; the TUI says how to answer (and
		// `/workflow answer <run>` opens the dialog when the person is ready).
		manager.setPromptPresenter((run, prompt) => {
			if (!ctx.hasUI) return;
			const runId = run.run.runId;
			if (piMode(true) !== "rpc") return ctx.ui.notify(promptNotice(runId, prompt), "warning");
			void askWithDialog(ctx.ui, runId, prompt)
				.then((value) =>
					value === undefined
						? ctx.ui.notify(promptNotice(runId, prompt), "warning")
						: service.answer(runId, prompt.id, value, ctx, "user").then(() => undefined),
				)
				.catch((error: unknown) => ctx.ui.notify(error instanceof Error ? error.message : String(error), "error"));
		});
		view?.refresh();
		// Completion needs the names without waiting; only UI modes complete, so only they scan at start.
		if (ctx.hasUI) void service.catalog(ctx.cwd).catch(() => undefined);
		// Runs left by earlier processes are offered, never resumed silently.
		if (ctx.hasUI) {
			const waiting = resumableRuns(projectStore(ctx.cwd)).filter((run) => !manager.get(run.runId));
			if (waiting.length > 0) ctx.ui.notify(resumableNotice(waiting), "info");
		}
	});

	pi.on("session_shutdown", async () => {
		view?.dispose();
	});
}
