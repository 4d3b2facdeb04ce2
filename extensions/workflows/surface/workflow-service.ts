// What the `workflow` tool and the `/workflow` command share: finding a workflow (catalog + trust),
// starting a run in the background (UI modes) or waiting for it (print/json), and reading runs.

import { writeSync } from "node:fs";
import { relative } from "node:path";
import { type ExtensionAPI, type ExtensionContext, getAgentDir } from "@mariozechner/pi-coding-agent";
import type { AnyWorkflowDefinition } from "../authoring/types.js";
import type { RunReport } from "../journal/report.js";
import { type CatalogEntry, WorkflowCatalog } from "./catalog.js";
import { summaryLine } from "./format.js";
import { piMode } from "./pi-mode.js";
import { type ManagedRun, runManager } from "./run-manager.js";
import { closestNames } from "./suggest.js";
import { createTrustStore, trustFromEnvironment } from "./trust.js";

export const TRUST_FLAG = "trust-workflows";

export interface StartedRun {
	managed: ManagedRun;
	/** The final report when the run was awaited (headless modes). */
	final?: RunReport;
}

export class WorkflowService {
	private readonly catalogs = new Map<string, WorkflowCatalog>();

	constructor(private readonly pi: ExtensionAPI) {}

	get agentDir(): string {
		return getAgentDir();
	}

	/** The catalog of a project, scanned on first use. */
	async catalog(cwd: string): Promise<WorkflowCatalog> {
		let catalog = this.catalogs.get(cwd);
		if (!catalog) {
			catalog = new WorkflowCatalog({ cwd, agentDir: this.agentDir });
			await catalog.reload();
			this.catalogs.set(cwd, catalog);
		}
		return catalog;
	}

	/** Workflow names known without scanning (for completion, which must be synchronous). */
	cachedNames(cwd: string): string[] {
		return (
			this.catalogs
				.get(cwd)
				?.list()
				.map((entry) => entry.name) ?? []
		);
	}

	async reload(cwd: string): Promise<WorkflowCatalog> {
		this.catalogs.delete(cwd);
		return this.catalog(cwd);
	}

	/** Finds a workflow by name, checking trust before a project file is imported. */
	async resolve(name: string, ctx: ExtensionContext): Promise<AnyWorkflowDefinition> {
		const catalog = await this.catalog(ctx.cwd);
		const entry = catalog.find(name);
		if (!entry) {
			const names = catalog.list().map((candidate) => candidate.name);
			const close = closestNames(name, names);
			const hint = close.length > 0 ? ` Did you mean ${close.map((n) => `"${n}"`).join(", ")}?` : "";
			throw new Error(`Unknown workflow "${name}".${hint} Known workflows: ${names.join(", ") || "none"}.`);
		}
		if (entry.scope === "project" && !entry.definition && !entry.error) await this.checkTrust(entry, ctx);
		await catalog.load(entry);
		if (entry.error || !entry.definition)
			throw new Error(`Workflow "${name}" (${entry.file}) cannot be used: ${entry.error}`);
		return entry.definition;
	}

	private async checkTrust(entry: CatalogEntry, ctx: ExtensionContext): Promise<void> {
		const store = createTrustStore(this.agentDir);
		if (store.isTrusted(entry.file)) return;
		if (trustFromEnvironment(this.pi.getFlag(TRUST_FLAG))) return;
		const shown = relative(ctx.cwd, entry.file);
		// Only a person at the TUI is asked; rpc clients and headless runs need the explicit flag.
		if (piMode(ctx.hasUI) === "interactive") {
			const ok = await ctx.ui.confirm(
				"Run a project workflow?",
				`${shown} is code from this repository; running it executes it with your permissions. Trust this version of the file?`,
			);
			if (!ok) throw new Error(`Workflow file ${shown} was not trusted; nothing was run.`);
			store.remember(entry.file);
			return;
		}
		throw new Error(
			`Workflow "${entry.name}" comes from the project file ${shown}, which is code from this repository and is not trusted yet. ` +
				`Run pi with --${TRUST_FLAG} (or set PI_WORKFLOWS_TRUST=1) to allow project workflows.`,
		);
	}

	/** Starts a run. In UI modes it runs in the background; headless, it is awaited and summarised on stdout. */
	async start(
		definition: AnyWorkflowDefinition,
		inputs: unknown,
		ctx: ExtensionContext,
		startedBy: ManagedRun["startedBy"],
	): Promise<StartedRun> {
		const model = ctx.model ? `${ctx.model.provider}/${ctx.model.id}` : undefined;
		const level = this.pi.getThinkingLevel();
		const managed = runManager().start(
			definition,
			inputs,
			{
				cwd: ctx.cwd,
				modelRegistry: () => runManager().modelRegistry ?? ctx.modelRegistry,
				defaultModel: model && level && level !== "off" ? `${model}:${level}` : model,
				uiContext: ctx.hasUI ? ctx.ui : undefined,
			},
			startedBy,
		);
		if (ctx.hasUI) return { managed };
		const final = await managed.run.done;
		printHeadless(summaryLine(final, ctx.cwd));
		if (final.status !== "completed") process.exitCode = 1;
		return { managed, final };
	}
}

/** Headless modes own stdout (Pi routes console output to stderr); write the summary to fd 1 itself. */
export function printHeadless(line: string): void {
	const json = piMode(false) === "json";
	writeSync(1, json ? `${JSON.stringify({ type: "workflow_summary", text: line })}\n` : `${line}\n`);
}
