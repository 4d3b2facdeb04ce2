// Draws a run's stage graph as text for a terminal. Stages follow one another down the page; stages that started
// from the same parents (parallel branches) hang as branches under a `┬` line; what is nested in a node (a child
// workflow's stages, a multi-turn stage's prompts) is indented under it. A stage names its parents (`<-`) unless it
// follows its one parent directly:
//   ✓ scout  2.1s
//   ┬ 2 in parallel
//   ├ ✓ correctness  1.0s
//   └ ✓ maintainability  1.2s
//   ✓ synthesis  0.8s  <- correctness, maintainability
// A large graph collapses runs of completed siblings into one line; a node in any other state stays visible.
// graph-mermaid.ts draws the same layout as a mermaid flowchart. Pure functions, no I/O.

export interface GraphNode {
	id: string;
	/** task, tool, prompt, workflow, stage, apply, worktree. */
	kind: string;
	/** running, waiting, completed, failed, cancelled, interrupted. */
	status: string;
	/** Ids of the nodes it started from; ids not in the graph count as none. */
	parents: string[];
	/** Id of the enclosing node (a child workflow, a multi-turn stage); it must start before this one. */
	within?: string;
	/** Models tried, shown when more than one. */
	attempts?: number;
	/** The result came from the journal of an earlier process. */
	replayed?: boolean;
	/** Short extra shown after the id (duration, model). */
	label?: string;
	/** The named parallel group it ran in: a fork whose branches all start in one names it. */
	group?: string;
}

export interface GraphOptions {
	/** Collapse runs of completed siblings when the graph has more nodes than this (default 40). */
	collapseAbove?: number;
}

/** A node, with its parents in its own group and what is nested in it. */
export interface GraphNodeItem {
	type: "node";
	node: GraphNode;
	/** Its parents as seen in its group: a parent nested deeper stands for the node enclosing it, outer ones drop. */
	parents: string[];
	/** Whether the drawing names the parents (more than one, or not the node just above). */
	named: boolean;
	nested: GraphItem[];
}

/** Branches that started from the same parents. */
export interface GraphForkItem {
	type: "fork";
	parents: string[];
	named: boolean;
	/** Each branch is a sequence; a collapsed run of branches is one branch holding one collapsed item. */
	branches: GraphItem[][];
	/** Branches before collapsing. */
	width: number;
}

/** Completed nodes (siblings and all they hold) drawn as one, in start order. */
export interface GraphCollapsedItem {
	type: "collapsed";
	nodes: GraphNode[];
}

export type GraphItem = GraphNodeItem | GraphForkItem | GraphCollapsedItem;

const DEFAULT_COLLAPSE_ABOVE = 40;
const GLYPHS: Record<string, string> = {
	completed: "✓",
	failed: "✗",
	running: "●",
	waiting: "?",
	interrupted: "◌",
	cancelled: "–",
};
/** Parents named on one line before the rest are counted. */
const NAMED_PARENTS = 5;

export function renderGraph(nodes: readonly GraphNode[], options: GraphOptions = {}): string[] {
	return draw(layoutGraph(nodes, options));
}

/** The layout both drawings share: the top-level sequence of items, collapsed when the graph is large. */
export function layoutGraph(nodes: readonly GraphNode[], options: GraphOptions = {}): GraphItem[] {
	const order = new Map<string, number>();
	const scopeOf = new Map<string, string | undefined>();
	const items = new Map<string, GraphNodeItem>();
	const root: GraphItem[] = [];
	nodes.forEach((node, index) => {
		// NOTE: ids are unique in a run; a repeated id (never from a report) is drawn once.
		if (order.has(node.id)) return;
		// Start order rules out cycles: only a node that started earlier can enclose this one.
		const enclosing = node.within === undefined ? undefined : items.get(node.within);
		const within = enclosing?.node.id;
		order.set(node.id, index);
		scopeOf.set(node.id, within);
		const parents = unique(
			node.parents.filter((parent) => parent !== node.id).map((parent) => inScope(parent, within, scopeOf)),
		);
		const item: GraphNodeItem = { type: "node", node, parents, named: false, nested: [] };
		items.set(node.id, item);
		const group = enclosing?.nested ?? root;
		// The prompts of one stage session follow one another, whatever parents they name.
		if (enclosing?.node.kind === "stage" || !place(group, item)) append(group, item);
	});
	const collapseAbove = options.collapseAbove ?? DEFAULT_COLLAPSE_ABOVE;
	if (nodes.length <= collapseAbove) return root;
	return collapseSequence(root, (node) => order.get(node.id) ?? 0);
}

/** The node standing for `id` in the group `scope`: itself, or the node of that group enclosing it. */
function inScope(id: string, scope: string | undefined, scopeOf: Map<string, string | undefined>): string | undefined {
	if (!scopeOf.has(id)) return undefined;
	let current = id;
	for (;;) {
		const enclosing = scopeOf.get(current);
		if (enclosing === scope) return current;
		if (enclosing === undefined) return undefined;
		current = enclosing;
	}
}

function unique(ids: ReadonlyArray<string | undefined>): string[] {
	return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

/** Each fork's branches by the ids they hold (at any depth), while the layout is built. */
const branchOf = new WeakMap<GraphForkItem, Map<string, GraphItem[]>>();

/** Puts a node where its parents say: after them, as a new branch beside its siblings, or inside a branch. */
function place(group: GraphItem[], item: GraphNodeItem): boolean {
	const last = group.at(-1);
	const id = item.node.id;
	// Every branch ends in at least one node, so fewer parents than branches cannot be the fork's tail.
	const mayFollow = last?.type !== "fork" || item.parents.length >= last.branches.length;
	if (!last || (mayFollow && sameSet(item.parents, tail(group)))) {
		append(group, item);
		return true;
	}
	if (last.type === "fork") {
		const index = branchOf.get(last) ?? new Map<string, GraphItem[]>();
		if (sameSet(item.parents, last.parents)) {
			const branch: GraphItem[] = [item];
			last.branches.push(branch);
			last.width++;
			index.set(id, branch);
			return true;
		}
		const branch = item.parents.length > 0 ? index.get(item.parents[0] as string) : undefined;
		if (branch && item.parents.every((parent) => index.get(parent) === branch)) {
			if (!place(branch, item)) append(branch, item);
			index.set(id, branch);
			return true;
		}
	}
	if (last.type === "node" && sameSet(item.parents, last.parents)) {
		const branches = [[last], [item]];
		const fork: GraphForkItem = { type: "fork", parents: last.parents, named: last.named, branches, width: 2 };
		branchOf.set(
			fork,
			new Map([
				[last.node.id, branches[0] as GraphItem[]],
				[id, branches[1] as GraphItem[]],
			]),
		);
		last.named = false;
		group[group.length - 1] = fork;
		return true;
	}
	return false;
}

function append(group: GraphItem[], item: GraphNodeItem): void {
	const previous = group.at(-1);
	const follows = previous?.type === "node" && item.parents.length === 1 && previous.node.id === item.parents[0];
	item.named = item.parents.length > 0 && !follows;
	group.push(item);
}

/** The ids a sequence ends with: its last node, or the ends of the last fork's branches. */
function tail(group: readonly GraphItem[]): string[] {
	const last = group.at(-1);
	if (last?.type === "node") return [last.node.id];
	if (last?.type === "fork") return last.branches.flatMap(tail);
	return [];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
	if (a.length !== b.length) return false;
	const members = new Set(b);
	return a.every((id) => members.has(id));
}

/** Collapses runs of finished siblings into one item where that saves lines (what it hides takes three or more);
 * a group that starts with such a run keeps its first two as examples. */
function collapseSequence(group: GraphItem[], rank: (node: GraphNode) => number): GraphItem[] {
	for (const item of group) {
		if (item.type === "node") item.nested = collapseSequence(item.nested, rank);
		if (item.type === "fork") {
			const branches = item.branches.map((branch) => collapseSequence(branch, rank));
			item.branches = collapseRuns(
				branches,
				(branch) => branch.every(finished),
				(branch) => lineCount(branch),
				(hidden) => [collapsed(hidden.flat(), rank)],
			);
		}
	}
	return collapseRuns(
		group,
		finished,
		(item) => lineCount([item]),
		(hidden) => collapsed(hidden, rank),
	);
}

function collapseRuns<T>(
	entries: readonly T[],
	isFinished: (entry: T) => boolean,
	lines: (entry: T) => number,
	merge: (run: T[]) => T,
): T[] {
	const out: T[] = [];
	let start = 0;
	while (start < entries.length) {
		let end = start;
		while (end < entries.length && isFinished(entries[end] as T)) end++;
		const run = entries.slice(start, end);
		const keep = start === 0 ? Math.min(2, run.length) : 0;
		const hidden = run.slice(keep);
		const saves = hidden.reduce((sum, entry) => sum + lines(entry), 0) >= 3;
		out.push(...(saves ? [...run.slice(0, keep), merge(hidden)] : run));
		if (end < entries.length) out.push(entries[end] as T);
		start = end + 1;
	}
	return out;
}

/** Lines a sequence takes when drawn. */
function lineCount(group: readonly GraphItem[]): number {
	return group.reduce((sum, item) => {
		if (item.type === "node") return sum + 1 + lineCount(item.nested);
		if (item.type === "fork") return sum + 1 + item.branches.reduce((lines, branch) => lines + lineCount(branch), 0);
		return sum + 1;
	}, 0);
}

function finished(item: GraphItem): boolean {
	if (item.type === "collapsed") return true;
	if (item.type === "fork") return item.branches.every((branch) => branch.every(finished));
	return item.node.status === "completed" && item.nested.every(finished);
}

function collapsed(items: readonly GraphItem[], rank: (node: GraphNode) => number): GraphCollapsedItem {
	const nodes = items.flatMap(nodesOf).sort((a, b) => rank(a) - rank(b));
	return { type: "collapsed", nodes };
}

function nodesOf(item: GraphItem): GraphNode[] {
	if (item.type === "collapsed") return item.nodes;
	if (item.type === "fork") return item.branches.flat().flatMap(nodesOf);
	return [item.node, ...item.nested.flatMap(nodesOf)];
}

function draw(group: readonly GraphItem[]): string[] {
	const lines: string[] = [];
	for (const item of group) {
		if (item.type === "node") {
			lines.push(nodeLine(item), ...draw(item.nested).map((line) => `  ${line}`));
		} else if (item.type === "collapsed") {
			lines.push(collapsedText(item));
		} else {
			const group = forkGroup(item);
			const named = item.named ? `  <- ${parentNames(item.parents)}` : "";
			lines.push(`┬ ${item.width} in parallel${group ? ` (${group})` : ""}${named}`);
			item.branches.forEach((branch, index) => {
				const last = index === item.branches.length - 1;
				draw(branch).forEach((line, row) => {
					lines.push(`${row === 0 ? (last ? "└ " : "├ ") : last ? "  " : "│ "}${line}`);
				});
			});
		}
	}
	return lines;
}

/** The group every branch of a fork starts in, if one. */
function forkGroup(item: GraphForkItem): string | undefined {
	const groups = new Set(item.branches.map((branch) => (branch[0] ? nodesOf(branch[0])[0]?.group : undefined)));
	const [only] = groups;
	return groups.size === 1 ? only : undefined;
}

function nodeLine(item: GraphNodeItem): string {
	const { node } = item;
	const parts = [`${statusGlyph(node.status)} ${kindTag(node.kind)}${node.id}${node.replayed ? " ↺" : ""}`];
	if (node.label) parts.push(node.label);
	if ((node.attempts ?? 0) > 1) parts.push(`(${node.attempts} models)`);
	if (item.named) parts.push(`<- ${parentNames(item.parents)}`);
	return parts.join("  ");
}

/** `✓ 180 more completed (review-3 … review-182)`, with how many of them were replayed. */
function collapsedText(item: GraphCollapsedItem): string {
	const { nodes } = item;
	const replayed = nodes.filter((node) => node.replayed).length;
	const first = nodes[0]?.id ?? "";
	const last = nodes.at(-1)?.id ?? "";
	const range = nodes.length > 2 ? `${first} … ${last}` : nodes.map((node) => node.id).join(", ");
	return `✓ ${nodes.length} more completed${replayed > 0 ? `, ${replayed} replayed` : ""} (${range})`;
}

export function statusGlyph(status: string): string {
	return GLYPHS[status] ?? "·";
}

/** `[tool] `, `[workflow] `, ... ; nothing for a task, the common case. */
function kindTag(kind: string): string {
	return kind === "task" || kind === "" ? "" : `[${kind}] `;
}

function parentNames(parents: readonly string[]): string {
	if (parents.length <= NAMED_PARENTS) return parents.join(", ");
	const shown = parents.slice(0, NAMED_PARENTS - 1);
	return `${shown.join(", ")} and ${parents.length - shown.length} more`;
}
