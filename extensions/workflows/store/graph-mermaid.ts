// Draws a run's stage graph as a mermaid flowchart (the lines inside a ```mermaid block), from the layout the text
// drawing uses (graph-text.ts): one box per node, coloured by status, an edge from each parent, a node's nested
// nodes inside a subgraph that stands for it, and a collapsed run of completed nodes as one box. Ids become safe
// mermaid ids (`n_` and letters, digits, `_`); label text is quoted with every character mermaid could read as
// syntax written as an entity (`#quot;`), so no id or label can break the chart.

import {
	type GraphCollapsedItem,
	type GraphItem,
	type GraphNode,
	type GraphOptions,
	layoutGraph,
	statusGlyph,
} from "./graph-text.js";

const CLASSES: Record<string, string> = {
	completed: "fill:#e6f4ea,stroke:#2e7d32,color:#1b1b1b",
	failed: "fill:#fdecea,stroke:#c62828,color:#1b1b1b",
	running: "fill:#e3f2fd,stroke:#1565c0,color:#1b1b1b",
	waiting: "fill:#fff8e1,stroke:#f9a825,color:#1b1b1b",
	interrupted: "fill:#f3e5f5,stroke:#6a1b9a,color:#1b1b1b",
	cancelled: "fill:#eeeeee,stroke:#757575,color:#1b1b1b,stroke-dasharray:4 2",
};

export function renderMermaid(nodes: readonly GraphNode[], options: GraphOptions = {}): string[] {
	const chart = new Chart();
	chart.items(layoutGraph(nodes, options), undefined, "\t");
	const lines = ["flowchart TD", ...chart.lines];
	const edges = new Set<string>();
	for (const node of nodes) {
		const to = chart.shownAs.get(node.id);
		for (const parent of node.parents) {
			const from = chart.shownAs.get(parent);
			if (!to || !from || from === to || chart.encloses(from, to) || chart.encloses(to, from)) continue;
			const edge = `\t${from} --> ${to}`;
			if (!edges.has(edge)) lines.push(edge);
			edges.add(edge);
		}
	}
	for (const [status, members] of chart.classes) {
		lines.push(`\tclassDef ${status} ${CLASSES[status]}`, `\tclass ${members.join(",")} ${status}`);
	}
	return lines;
}

/** The boxes and subgraphs of a chart as they are written, and which box shows each node. */
class Chart {
	readonly lines: string[] = [];
	/** Node id -> the mermaid id of the box or subgraph showing it (its own, or its collapsed run's). */
	readonly shownAs = new Map<string, string>();
	/** Mermaid ids by status class, in the order written. */
	readonly classes = new Map<string, string[]>();
	/** Mermaid id -> the subgraph it was written in. */
	private readonly container = new Map<string, string | undefined>();
	private readonly used = new Set<string>();
	private collapsedRuns = 0;

	items(group: readonly GraphItem[], within: string | undefined, indent: string): void {
		for (const item of group) {
			if (item.type === "fork") {
				for (const branch of item.branches) this.items(branch, within, indent);
			} else if (item.type === "collapsed") {
				const id = `c_${++this.collapsedRuns}`;
				this.box(id, within, collapsedLabel(item), "completed", indent);
				for (const node of item.nodes) this.shownAs.set(node.id, id);
			} else {
				const id = this.idFor(item.node.id);
				this.shownAs.set(item.node.id, id);
				if (item.nested.length === 0) {
					this.box(id, within, nodeLabel(item.node), item.node.status, indent);
					continue;
				}
				this.container.set(id, within);
				this.lines.push(`${indent}subgraph ${id} ["${escapeLabel(nodeLabel(item.node))}"]`);
				this.items(item.nested, id, `${indent}\t`);
				this.lines.push(`${indent}end`);
				this.classify(id, item.node.status);
			}
		}
	}

	/** Whether `outer` is a subgraph holding `inner`, at any depth. */
	encloses(outer: string, inner: string): boolean {
		for (let current = this.container.get(inner); current !== undefined; current = this.container.get(current)) {
			if (current === outer) return true;
		}
		return false;
	}

	private box(id: string, within: string | undefined, label: string, status: string, indent: string): void {
		this.container.set(id, within);
		this.lines.push(`${indent}${id}["${escapeLabel(label)}"]`);
		this.classify(id, status);
	}

	private classify(id: string, status: string): void {
		if (!(status in CLASSES)) return;
		const members = this.classes.get(status) ?? [];
		members.push(id);
		this.classes.set(status, members);
	}

	/** `n_` and the id with every other character as `_`, numbered when two ids meet. */
	private idFor(nodeId: string): string {
		const base = `n_${nodeId.replace(/[^A-Za-z0-9_]/g, "_")}`;
		let id = base;
		for (let n = 2; this.used.has(id); n++) id = `${base}_${n}`;
		this.used.add(id);
		return id;
	}
}

/** `✓ lint · tool · 0.3s · 2 models · replayed`: the text drawing's facts without its brackets. */
function nodeLabel(node: GraphNode): string {
	const parts = [`${statusGlyph(node.status)} ${node.id}`];
	if (node.kind !== "task" && node.kind !== "") parts.push(node.kind);
	if (node.label) parts.push(node.label);
	if ((node.attempts ?? 0) > 1) parts.push(`${node.attempts} models`);
	if (node.replayed) parts.push("replayed");
	return parts.join(" · ");
}

/** `✓ 180 more completed · review-3 … review-182`. */
function collapsedLabel(item: GraphCollapsedItem): string {
	const { nodes } = item;
	const replayed = nodes.filter((node) => node.replayed).length;
	const range = nodes.length > 2 ? `${nodes[0]?.id} … ${nodes.at(-1)?.id}` : nodes.map((node) => node.id).join(", ");
	return `✓ ${nodes.length} more completed${replayed > 0 ? `, ${replayed} replayed` : ""} · ${range}`;
}

/** Label text safe inside `["..."]`: letters, digits, spaces and plain punctuation stay, the rest become entities. */
export function escapeLabel(text: string): string {
	return [...text.replace(/\s+/g, " ")]
		.map((char) => (/[\p{L}\p{N} .,:/_+\-*=!?@~'✓✗●◌–·…]/u.test(char) ? char : `#${char.codePointAt(0)};`))
		.join("");
}
