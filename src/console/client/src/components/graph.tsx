/**
 * The case's linkage graph on cytoscape: accounts and the attributes they share, each kind with
 * its own shape and colour (the legend says which), edges labelled by the evidence that links
 * them. Click or tap a node for its details; the same nodes are listed in a table below for
 * keyboard and screen-reader use.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import cytoscape from 'cytoscape';
import type { CaseGraph, GraphNode, NodeKind } from '../types';
import { href } from '../router';
import { score } from '../format';

export const KIND_STYLE: Record<NodeKind, { label: string; color: string; shape: cytoscape.Css.NodeShape; svg: string }> = {
  account: { label: 'Account', color: '#2f5d9e', shape: 'ellipse', svg: 'circle' },
  payment: { label: 'Payment card', color: '#b54708', shape: 'diamond', svg: 'diamond' },
  device: { label: 'Device', color: '#7a3ea8', shape: 'round-rectangle', svg: 'roundrect' },
  network: { label: 'Network', color: '#0e7c6b', shape: 'hexagon', svg: 'hexagon' },
  ip_prefix: { label: 'IP range', color: '#0f766e', shape: 'triangle', svg: 'triangle' },
  asn: { label: 'ASN', color: '#3f6212', shape: 'octagon', svg: 'octagon' },
  template: { label: 'Prompt template', color: '#be185d', shape: 'star', svg: 'star' },
  email_domain: { label: 'Email domain', color: '#a16207', shape: 'tag', svg: 'tag' },
  entity: { label: 'Entity', color: '#b42318', shape: 'vee', svg: 'vee' },
  other: { label: 'Other', color: '#667085', shape: 'barrel', svg: 'rect' },
};

const SVG_PATH: Record<string, string> = {
  circle: 'M8 1a7 7 0 1 0 0 14A7 7 0 1 0 8 1z',
  diamond: 'M8 1l7 7-7 7-7-7z',
  roundrect: 'M4 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2z',
  hexagon: 'M4.5 2h7L15 8l-3.5 6h-7L1 8z',
  triangle: 'M8 1.5l7 12.5H1z',
  octagon: 'M5 1.5h6L14.5 5v6L11 14.5H5L1.5 11V5z',
  star: 'M8 1l2 4.8 5 .4-3.8 3.3 1.2 5L8 11.8 3.6 14.5l1.2-5L1 6.2l5-.4z',
  tag: 'M1.5 3h9L15 8l-4.5 5h-9z',
  vee: 'M1 2l7 5 7-5-7 12z',
  rect: 'M2 3h12v10H2z',
};

export function KindIcon({ kind }: { kind: NodeKind }) {
  const s = KIND_STYLE[kind] ?? KIND_STYLE.other;
  return (
    <svg className="kind-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <path d={SVG_PATH[s.svg]} fill={s.color} />
    </svg>
  );
}

/**
 * Cytoscape injects a <style> element (`position: relative` for its container) unless an element
 * with its id exists; under CSP default-src 'self' that inline style is refused. A placeholder
 * with the id stops the injection; app.css carries the same rule.
 */
function preventCytoscapeInlineStyle(): void {
  const id = '__________cytoscape_stylesheet';
  if (document.getElementById(id)) return;
  const placeholder = document.createElement('meta');
  placeholder.id = id;
  document.head.appendChild(placeholder);
}

export function graphCountText(g: CaseGraph): string {
  return `${g.nodes.length} ${g.nodes.length === 1 ? 'node' : 'nodes'} · ${g.edges.length} ${g.edges.length === 1 ? 'link' : 'links'}`;
}

export function LinkageGraph({ graph }: { graph: CaseGraph }) {
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<cytoscape.Core | null>(null);
  const [selected, setSelected] = useState<GraphNode | null>(null);
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  /** The kind of the non-account end of an edge: its colour. */
  const attributeKind = (e: { source: string; target: string }): NodeKind => {
    const a = byId.get(e.target);
    const b = byId.get(e.source);
    return (a && a.kind !== 'account' ? a.kind : b?.kind) ?? 'other';
  };
  const kinds = useMemo(() => [...new Set(graph.nodes.map((n) => n.kind))], [graph]);
  const degree = useMemo(() => {
    const d = new Map<string, number>();
    for (const e of graph.edges) {
      d.set(e.source, (d.get(e.source) ?? 0) + 1);
      d.set(e.target, (d.get(e.target) ?? 0) + 1);
    }
    return d;
  }, [graph]);

  useEffect(() => {
    if (!box.current) return;
    preventCytoscapeInlineStyle();
    const many = graph.nodes.length > 80;
    const instance = cytoscape({
      container: box.current,
      elements: [
        ...graph.nodes.map((n) => ({ data: { id: n.id, label: n.label, kind: n.kind, risk: n.risk ?? 0 } })),
        ...graph.edges.filter((e) => byId.has(e.source) && byId.has(e.target)).map((e) => ({ data: { id: e.id, source: e.source, target: e.target, label: e.label, kind: attributeKind(e) } })),
      ],
      style: [
        {
          selector: 'node',
          style: {
            'background-color': '#667085',
            label: 'data(label)',
            'font-size': 10,
            'font-family': 'system-ui, sans-serif',
            color: '#1d2939',
            'text-valign': 'bottom',
            'text-margin-y': 4,
            'text-outline-color': '#ffffff',
            'text-outline-width': 2,
            width: 22,
            height: 22,
            'border-width': 1.5,
            'border-color': '#ffffff',
          },
        },
        ...(Object.entries(KIND_STYLE) as [NodeKind, (typeof KIND_STYLE)[NodeKind]][]).map(([k, s]) => ({
          selector: `node[kind = "${k}"]`,
          style: { 'background-color': s.color, shape: s.shape, ...(k === 'account' ? {} : { width: 28, height: 28 }) },
        })),
        { selector: 'node[risk >= 0.8]', style: { 'border-color': '#b42318', 'border-width': 3 } },
        {
          selector: 'edge',
          style: {
            width: 1.5,
            'line-color': '#c3c9d2',
            'line-opacity': 0.8,
            'curve-style': 'bezier',
            label: '',
            'font-size': 9,
            'font-family': 'system-ui, sans-serif',
            color: '#344054',
            'text-rotation': 'autorotate',
            'text-background-color': '#ffffff',
            'text-background-opacity': 0.9,
            'text-background-padding': '2px',
          },
        },
        ...(Object.entries(KIND_STYLE) as [NodeKind, (typeof KIND_STYLE)[NodeKind]][]).map(([k, s]) => ({
          selector: `edge[kind = "${k}"]`,
          style: { 'line-color': s.color, 'line-opacity': 0.6 },
        })),
        // Labels name the evidence that links two nodes; shown for the selected node's links (all of them when few).
        { selector: 'edge.hl', style: { label: 'data(label)', 'line-opacity': 1, width: 2.5, 'z-index': 10 } },
        ...(graph.edges.length <= 8 ? [{ selector: 'edge', style: { label: 'data(label)' } }] : []),
        { selector: 'node:selected', style: { 'border-color': '#f79009', 'border-width': 4 } },
      ],
      // Small graphs: accounts on the inner ring, what they share on the outer one (every link
      // visible, labels apart). Large graphs: a force-directed layout.
      layout: (graph.nodes.length <= 80
        ? { name: 'concentric', animate: false, padding: 30, minNodeSpacing: 46, concentric: (n: cytoscape.NodeSingular) => (n.data('kind') === 'account' ? 2 : 1), levelWidth: () => 1, startAngle: (3 / 2) * Math.PI + 0.3 }
        : { name: 'cose', animate: false, padding: 30, nodeRepulsion: () => 40000, idealEdgeLength: () => 110, nodeOverlap: 20, nodeDimensionsIncludeLabels: true, gravity: 0.6, randomize: false }) as cytoscape.LayoutOptions,
      wheelSensitivity: 0.3,
      minZoom: 0.2,
      maxZoom: 3,
    });
    instance.on('tap', 'node', (evt) => {
      const id = evt.target.id() as string;
      instance.edges().removeClass('hl');
      evt.target.connectedEdges().addClass('hl');
      setSelected(byId.get(id) ?? null);
    });
    instance.on('tap', (evt) => {
      if (evt.target === instance) {
        instance.edges().removeClass('hl');
        setSelected(null);
      }
    });
    // Few nodes would be fitted at a giant zoom: keep the initial view at a readable scale.
    if (instance.zoom() > 1.25) {
      instance.zoom(1.25);
      instance.center();
    }
    cy.current = instance;
    return () => {
      instance.destroy();
      cy.current = null;
    };
  }, [graph, byId]);

  const zoom = (f: number) => {
    const c = cy.current;
    if (!c) return;
    c.zoom({ level: c.zoom() * f, renderedPosition: { x: c.width() / 2, y: c.height() / 2 } });
  };

  return (
    <div className="graph">
      <div className="graph-toolbar">
        <span className="graph-count num" data-testid="graph-count">
          {graphCountText(graph)}
        </span>
        {graph.omitted ? <span className="muted small">{graph.omitted} more left out (see the report)</span> : null}
        <ul className="legend" aria-label="Legend">
          {kinds.map((k) => (
            <li key={k}>
              <KindIcon kind={k} />
              {KIND_STYLE[k]?.label ?? k}
            </li>
          ))}
          {graph.nodes.some((n) => (n.risk ?? 0) >= 0.8) && (
            <li>
              <span className="risk-ring" aria-hidden="true" />
              risk ≥ 0.8
            </li>
          )}
        </ul>
        <div className="btn-group" role="group" aria-label="Graph view">
          <button type="button" className="btn btn-small btn-ghost" onClick={() => zoom(1.25)} aria-label="Zoom in">
            +
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => zoom(0.8)} aria-label="Zoom out">
            −
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => cy.current?.fit(undefined, 24)}>
            Fit
          </button>
        </div>
      </div>
      <div className="graph-stage">
        <div ref={box} className="graph-canvas" role="img" aria-label={`Linkage graph, ${graphCountText(graph)}. The nodes are listed in the table below.`} data-testid="graph-canvas" />
        {selected && (
          <aside className="graph-detail" aria-label="Selected node">
            <div className="graph-detail-kind">
              <KindIcon kind={selected.kind} /> {KIND_STYLE[selected.kind]?.label ?? selected.kind}
            </div>
            <div className="graph-detail-label mono">{selected.label}</div>
            <div className="muted small">
              {degree.get(selected.id) ?? 0} link(s)
              {selected.risk != null && <> · risk {score(selected.risk)}</>}
              {selected.cluster_id && <> · {selected.cluster_id}</>}
            </div>
            {selected.kind === 'account' && (
              <a className="small" href={href(`/accounts/${encodeURIComponent(selected.id.replace(/^account:/, ''))}`)}>
                Open account →
              </a>
            )}
          </aside>
        )}
      </div>
      <p className="graph-hint muted small">Drag to pan, scroll to zoom. Click a node to see its details and label its links.</p>
      <details className="graph-table">
        <summary>List the {graph.nodes.length} nodes</summary>
        <table className="table dense">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Node</th>
              <th scope="col" className="n">
                Links
              </th>
              <th scope="col" className="n">
                Risk
              </th>
            </tr>
          </thead>
          <tbody>
            {graph.nodes.map((n) => (
              <tr key={n.id}>
                <td>
                  <KindIcon kind={n.kind} /> {KIND_STYLE[n.kind]?.label ?? n.kind}
                </td>
                <td className="mono">{n.kind === 'account' ? <a href={href(`/accounts/${encodeURIComponent(n.id.replace(/^account:/, ''))}`)}>{n.label}</a> : n.label}</td>
                <td className="n num">{degree.get(n.id) ?? 0}</td>
                <td className="n num">{score(n.risk)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
