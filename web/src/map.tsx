/**
 * The map view: a layout drawn as points (regl) that turn into thumbnails when
 * zoomed in, or a grid layout as a deep-zoom image (OpenSeadragon) of all its
 * stills; coloured and filtered by movie, director, cinematographer, year range or
 * cluster, with the selection highlighted and listed below.
 */
import OpenSeadragon from 'openseadragon';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  layoutData,
  movieDetail,
  NO_CLUSTER,
  stillImage,
  type AtlasSummary,
  type LayoutData,
  type Movie,
} from './api';
import { categoryColors, rgbHex, UNKNOWN } from './colors';
import {
  createPointsRenderer,
  fitView,
  pick,
  toScreen,
  visiblePoints,
  type PointsScene,
  type View,
} from './points';
import { href, navigate, type Route } from './route';

/** Fewest points in view before thumbnails replace dots. */
const THUMBS_MAX = 240;
/** Grid cells drawn as 16:9 in the points renderer. */
const CELL_ASPECT = 224 / 126;

interface Filters {
  movie: number | null;
  director: string;
  dop: string;
  y0: number | null;
  y1: number | null;
  cluster: string;
}

function filtersOf(p: URLSearchParams): Filters {
  const num = (k: string): number | null => (p.get(k) && /^\d+$/.test(p.get(k)!) ? Number(p.get(k)) : null);
  return {
    movie: num('movie'),
    director: p.get('director') ?? '',
    dop: p.get('dop') ?? '',
    y0: num('y0'),
    y1: num('y1'),
    cluster: p.get('cluster') ?? '',
  };
}

function active(f: Filters): boolean {
  return f.movie !== null || !!f.director || !!f.dop || f.y0 !== null || f.y1 !== null || !!f.cluster;
}

function categoryOf(m: Movie | undefined, colorBy: string): string | null {
  if (!m) return null;
  switch (colorBy) {
    case 'movie':
      return m.label;
    case 'director':
      return m.director;
    case 'cinematographer':
      return m.cinematographer;
    case 'year':
      return m.year === null ? null : `${Math.floor(m.year / 10) * 10}s`;
    default:
      return m.attributes[colorBy] ?? null;
  }
}

export function MapView({
  summary,
  movies,
  route,
}: {
  summary: AtlasSummary;
  movies: Movie[];
  route: Route;
}) {
  const p = route.params;
  const layouts = summary.layouts;
  const layoutName =
    p.get('layout') || ((layouts.find((l) => l.kind === 'points') ?? layouts[0])?.name ?? '');
  const colorBy = p.get('color') ?? 'movie';
  const filters = filtersOf(p);
  const focus = p.get('focus') && /^\d+$/.test(p.get('focus')!) ? Number(p.get('focus')) : null;
  const pathMovie = p.get('path') && /^\d+$/.test(p.get('path')!) ? Number(p.get('path')) : null;
  const mode = p.get('mode') ?? 'auto';
  const [layout, setLayout] = useState<LayoutData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const movieById = useMemo(() => new Map(movies.map((m) => [m.id, m])), [movies]);

  useEffect(() => {
    if (!layoutName) return;
    setLayout(null);
    setError(null);
    layoutData(layoutName).then(setLayout, (e: Error) => setError(e.message));
  }, [layoutName]);

  const set = (changes: Record<string, string | number | null>): void => {
    const q: Record<string, string | number | null> = Object.fromEntries(p.entries());
    Object.assign(q, changes);
    navigate(href('map', null, q), true);
  };

  const attrKeys = useMemo(() => {
    const s = new Set<string>();
    for (const m of movies) for (const k of Object.keys(m.attributes)) s.add(k);
    return [...s].sort();
  }, [movies]);

  // Colour and selection per point.
  const derived = useMemo(() => {
    if (!layout) return null;
    const n = layout.ids.length;
    const cats: (string | null)[] = new Array(n);
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      let c: string | null;
      if (colorBy === 'cluster' && layout.clusters && layout.clusterLabels) {
        const ci = layout.clusters[i];
        c = ci === NO_CLUSTER ? null : layout.clusterLabels[ci];
      } else c = categoryOf(movieById.get(layout.movies[i]), colorBy);
      cats[i] = c;
      if (c !== null) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
    const colorOf = categoryColors(ranked);
    const selected = new Uint8Array(n);
    const on = active(filters);
    const clusterIndex =
      filters.cluster && layout.clusterLabels ? layout.clusterLabels.indexOf(filters.cluster) : -1;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const m = movieById.get(layout.movies[i]);
      let ok = true;
      if (on) {
        if (filters.movie !== null && layout.movies[i] !== filters.movie) ok = false;
        else if (filters.director && m?.director !== filters.director) ok = false;
        else if (filters.dop && m?.cinematographer !== filters.dop) ok = false;
        else if (filters.y0 !== null && (m?.year ?? -Infinity) < filters.y0) ok = false;
        else if (filters.y1 !== null && (m?.year ?? Infinity) > filters.y1) ok = false;
        else if (filters.cluster && (!layout.clusters || layout.clusters[i] !== clusterIndex)) ok = false;
      }
      selected[i] = ok ? 1 : 0;
      if (ok) count++;
    }
    const colors = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      const rgb = cats[i] === null ? UNKNOWN : colorOf.get(cats[i]!)!;
      colors.set(rgb, 4 * i);
      colors[4 * i + 3] = selected[i] ? 255 : 60;
    }
    const selMovies = new Map<number, number>();
    if (on)
      for (let i = 0; i < n; i++)
        if (selected[i]) selMovies.set(layout.movies[i], (selMovies.get(layout.movies[i]) ?? 0) + 1);
    return { colors, selected, count, ranked, colorOf, selMovies, on };
  }, [
    layout,
    colorBy,
    movieById,
    filters.movie,
    filters.director,
    filters.dop,
    filters.y0,
    filters.y1,
    filters.cluster,
  ]);

  const current = layouts.find((l) => l.name === layoutName);
  const useDeepZoom = !!layout?.deepzoom && layout.kind === 'grid' && mode !== 'points';
  const rowOf = useMemo(
    () => (layout ? new Map(Array.from(layout.ids, (id, i) => [id, i])) : null),
    [layout],
  );
  const [pathIds, setPathIds] = useState<number[] | null>(null);
  useEffect(() => {
    setPathIds(null);
    if (pathMovie !== null)
      movieDetail(pathMovie).then(
        (d) => setPathIds(d.stills),
        () => setPathIds(null),
      );
  }, [pathMovie]);
  // The movie's stills in film order, as layout rows.
  const path = useMemo(() => {
    if (!pathIds || !rowOf) return null;
    return pathIds.map((id) => rowOf.get(id)).filter((i): i is number => i !== undefined);
  }, [pathIds, rowOf]);
  const focusRow = focus !== null && rowOf ? (rowOf.get(focus) ?? null) : null;

  if (layouts.length === 0) {
    return (
      <div class="empty">
        <h2>No layouts yet</h2>
        <p>
          This atlas has no map. Make one with{' '}
          <code>filmatlas map --atlas DIR --features color --reduce pca</code>, then a grid with{' '}
          <code>filmatlas grid</code>.
        </p>
      </div>
    );
  }

  return (
    <div class="map-view">
      <div class="controls" role="toolbar">
        <label>
          Layout{' '}
          <select
            value={layoutName}
            onChange={(e) => set({ layout: (e.target as HTMLSelectElement).value, focus: null })}
          >
            {layouts.map((l) => (
              <option value={l.name}>
                {l.name} ({l.kind === 'grid' ? `grid ${l.grid?.cols}×${l.grid?.rows}` : l.method})
              </option>
            ))}
          </select>
        </label>
        {current?.kind === 'grid' && current.deepzoom && (
          <label>
            View{' '}
            <select
              value={useDeepZoom ? 'tiles' : 'points'}
              onChange={(e) =>
                set({ mode: (e.target as HTMLSelectElement).value === 'points' ? 'points' : null })
              }
            >
              <option value="tiles">deep-zoom image</option>
              <option value="points">points</option>
            </select>
          </label>
        )}
        <label>
          Colour by{' '}
          <select value={colorBy} onChange={(e) => set({ color: (e.target as HTMLSelectElement).value })}>
            <option value="movie">movie</option>
            <option value="director">director</option>
            <option value="cinematographer">cinematographer</option>
            <option value="year">decade</option>
            {layout?.clusterLabels && <option value="cluster">cluster</option>}
            {attrKeys.map((k) => (
              <option value={k}>{k}</option>
            ))}
          </select>
        </label>
        <FilterSelect
          label="Movie"
          value={filters.movie ?? ''}
          options={movies.map((m) => [String(m.id), m.label])}
          onPick={(v) => set({ movie: v })}
        />
        <FilterSelect
          label="Director"
          value={filters.director}
          options={summary.directors.map((d) => [d, d])}
          onPick={(v) => set({ director: v })}
        />
        <FilterSelect
          label="Cinematographer"
          value={filters.dop}
          options={summary.cinematographers.map((d) => [d, d])}
          onPick={(v) => set({ dop: v })}
        />
        <label>
          Years <YearInput hint={summary.years?.min} value={filters.y0} onPick={(v) => set({ y0: v })} />
          –
          <YearInput hint={summary.years?.max} value={filters.y1} onPick={(v) => set({ y1: v })} />
        </label>
        {layout?.clusterLabels && (
          <FilterSelect
            label="Cluster"
            value={filters.cluster}
            options={layout.clusterLabels.map((c) => [c, c])}
            onPick={(v) => set({ cluster: v })}
          />
        )}
        {derived?.on && (
          <button
            type="button"
            onClick={() => set({ movie: null, director: null, dop: null, y0: null, y1: null, cluster: null })}
          >
            Clear filters
          </button>
        )}
      </div>
      <div class="map-frame">
        {error && <div class="error">Could not load layout: {error}</div>}
        {!layout && !error && <div class="loading">Loading {layoutName}…</div>}
        {layout && derived && !useDeepZoom && (
          <PointsMap
            key={layout.name}
            layout={layout}
            colors={derived.colors}
            movieById={movieById}
            path={path}
            focusRow={focusRow}
          />
        )}
        {layout && derived && useDeepZoom && (
          <DeepZoomMap
            key={layout.name}
            layout={layout}
            colors={derived.colors}
            selected={derived.on ? derived.selected : null}
            movieById={movieById}
            path={path}
            focusRow={focusRow}
          />
        )}
      </div>
      {derived && (
        <div class="legend">
          {derived.ranked.slice(0, 12).map((c) => (
            <span class="chip">
              <i style={{ background: rgbHex(derived.colorOf.get(c)!) }} />
              {c}
            </span>
          ))}
          {derived.ranked.length > 12 && <span class="chip">+{derived.ranked.length - 12} more</span>}
        </div>
      )}
      {derived?.on && (
        <div class="selection" data-testid="selection">
          <h3>
            Selection: {derived.count} stills in {derived.selMovies.size} movies
          </h3>
          <ul class="movie-list">
            {[...derived.selMovies.entries()]
              .sort((a, b) => b[1] - a[1])
              .slice(0, 100)
              .map(([id, n]) => {
                const m = movieById.get(id);
                return (
                  <li>
                    {m?.cover != null && <img src={stillImage(m.cover)} alt="" loading="lazy" />}
                    <a href={href('movie', id)}>{m?.label ?? `movie ${id}`}</a>{' '}
                    <span class="muted">{n} stills</span>
                  </li>
                );
              })}
          </ul>
        </div>
      )}
    </div>
  );
}

/** A labelled filter drop-down: "all" plus one option per [value, label]; picking "all" clears it. */
function FilterSelect(props: {
  label: string;
  value: string | number;
  options: readonly (readonly [string, string])[];
  onPick: (value: string | null) => void;
}) {
  return (
    <label>
      {props.label}{' '}
      <select
        value={props.value}
        onChange={(e) => props.onPick((e.target as HTMLSelectElement).value || null)}
      >
        <option value="">all</option>
        {props.options.map(([value, label]) => (
          <option value={value}>{label}</option>
        ))}
      </select>
    </label>
  );
}

function Tooltip({ id, movie, x, y }: { id: number; movie: Movie | undefined; x: number; y: number }) {
  return (
    <div class="tooltip" style={{ left: `${x + 14}px`, top: `${y + 14}px` }} data-testid="tooltip">
      <img src={stillImage(id)} alt="" />
      <div>{movie?.label ?? ''}</div>
      <div class="muted">still {id}</div>
    </div>
  );
}

/** One end of the year-range filter; empty means open. */
function YearInput({
  hint,
  value,
  onPick,
}: {
  hint: number | undefined;
  value: number | null;
  onPick: (v: string | null) => void;
}) {
  return (
    <input
      type="number"
      class="year"
      placeholder={String(hint ?? '')}
      value={value ?? ''}
      onChange={(e) => onPick((e.target as HTMLInputElement).value || null)}
    />
  );
}

/** The tooltip of the point under the pointer: row `hover.i` of the layout. */
function HoverTooltip({
  layout,
  movieById,
  hover,
}: {
  layout: LayoutData;
  movieById: Map<number, Movie>;
  hover: { i: number; x: number; y: number };
}) {
  return (
    <Tooltip id={layout.ids[hover.i]} movie={movieById.get(layout.movies[hover.i])} x={hover.x} y={hover.y} />
  );
}

interface MapProps {
  layout: LayoutData;
  movieById: Map<number, Movie>;
  path: number[] | null;
  focusRow: number | null;
}

function PointsMap({ layout, colors, movieById, path, focusRow }: MapProps & { colors: Uint8Array }) {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const thumbsRef = useRef<HTMLDivElement>(null);
  const markRef = useRef<HTMLDivElement>(null);
  const overlayRef = useRef<HTMLCanvasElement>(null);
  const state = useRef<{ view: View; size: [number, number]; dirty: boolean; thumbView: View | null } | null>(
    null,
  );
  const [thumbs, setThumbs] = useState<{ i: number; x: number; y: number; w: number; h: number }[]>([]);
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const isGrid = layout.kind === 'grid';
  // Grids are drawn with 16:9 cells; plots as they are.
  const xy = useMemo(() => {
    if (!isGrid) return layout.xy;
    const out = Float32Array.from(layout.xy);
    for (let i = 0; i < out.length; i += 2) out[i] *= CELL_ASPECT;
    return out;
  }, [layout, isGrid]);
  const fitK = useRef(1);
  const scene = useRef<PointsScene>({ xy, colors, yDown: isGrid, path, marked: [], fitK: 1 });
  scene.current = {
    xy,
    colors,
    yDown: isGrid,
    path,
    marked: focusRow === null ? [] : [focusRow],
    fitK: fitK.current,
  };

  useEffect(() => {
    const box = wrap.current!;
    const { renderer, canvas: el } = createPointsRenderer(canvas.current!);
    box.dataset.renderer = renderer.kind;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const resize = (): void => {
      const w = box.clientWidth,
        h = box.clientHeight;
      el.width = Math.round(w * dpr);
      el.height = Math.round(h * dpr);
      el.style.width = `${w}px`;
      el.style.height = `${h}px`;
      const first = !state.current;
      if (first) {
        // Few enough stills to show as thumbnails at once: leave room for them at the edges.
        let view = fitView(scene.current.xy, w, h, scene.current.xy.length / 2 <= THUMBS_MAX ? 0.72 : 0.9);
        fitK.current = scene.current.fitK = view.k;
        if (focusRow !== null) {
          view = {
            cx: scene.current.xy[2 * focusRow],
            cy: scene.current.xy[2 * focusRow + 1],
            k: view.k * 6,
          };
        }
        state.current = { view, size: [w, h], dirty: true, thumbView: null };
      } else {
        state.current!.size = [w, h];
        state.current!.dirty = true;
      }
    };
    resize();
    let settleTimer = 0;
    let moving = false;
    const settle = (): void => {
      window.clearTimeout(settleTimer);
      moving = true;
      settleTimer = window.setTimeout(() => {
        const s = state.current!;
        // At rest: draw every point again (a sample may have been drawn while moving).
        moving = false;
        s.dirty = true;
        const [w, h] = s.size;
        const vis = visiblePoints(scene.current, s.view, w, h, THUMBS_MAX);
        if (!vis) {
          s.thumbView = null;
          setThumbs([]);
          return;
        }
        const tw = isGrid
          ? s.view.k * CELL_ASPECT * 0.96
          : Math.max(40, Math.min(200, (Math.min(w, h) / Math.sqrt(Math.max(1, vis.length))) * 1.1));
        const th = isGrid ? s.view.k * 0.96 : (tw * 126) / 224;
        if (tw < 24) {
          s.thumbView = null;
          setThumbs([]);
          return;
        }
        s.thumbView = { ...s.view };
        setThumbs(
          vis.map((i) => {
            const [x, y] = toScreen(scene.current, s.view, i, w, h);
            return { i, x: x - tw / 2, y: y - th / 2, w: tw, h: th };
          }),
        );
        if (thumbsRef.current) thumbsRef.current.style.transform = '';
      }, 120);
    };
    let raf = 0;
    let overlayDirty = false;
    const frame = (): void => {
      raf = requestAnimationFrame(frame);
      const s = state.current!;
      if (!s.dirty) return;
      s.dirty = false;
      const [w, h] = s.size;
      renderer.draw(scene.current, s.view, w, h, dpr, moving);
      // Keep the thumbnails where their points are until they are recomputed.
      const tv = s.thumbView;
      if (tv && thumbsRef.current) {
        const r = s.view.k / tv.k;
        const sy = scene.current.yDown ? 1 : -1;
        const tx = (tv.cx - s.view.cx) * s.view.k + w / 2 - (w / 2) * r;
        const ty = sy * (tv.cy - s.view.cy) * s.view.k + h / 2 - (h / 2) * r;
        thumbsRef.current.style.transform = `translate(${tx}px, ${ty}px) scale(${r})`;
      }
      // The movie path above the thumbnails, on a 2-D overlay (a few hundred segments at most).
      const ov = overlayRef.current;
      const p = scene.current.path;
      const hasPath = !!p && p.length > 1;
      if (ov && (hasPath || overlayDirty)) {
        if (ov.width !== el.width || ov.height !== el.height) {
          ov.width = el.width;
          ov.height = el.height;
        }
        const c = ov.getContext('2d')!;
        c.setTransform(dpr, 0, 0, dpr, 0, 0);
        c.clearRect(0, 0, w, h);
        overlayDirty = hasPath;
        if (p && hasPath) {
          c.strokeStyle = '#ffd933';
          c.lineWidth = 2;
          c.beginPath();
          p.forEach((i, j) => {
            const [x, y] = toScreen(scene.current, s.view, i, w, h);
            if (j === 0) c.moveTo(x, y);
            else c.lineTo(x, y);
          });
          c.stroke();
          c.fillStyle = '#ffd933';
          for (const [j, i] of [p[0], p[p.length - 1]].entries()) {
            const [x, y] = toScreen(scene.current, s.view, i, w, h);
            c.beginPath();
            c.arc(x, y, j === 0 ? 5 : 3.5, 0, 2 * Math.PI);
            c.fill();
          }
        }
      }
      const mark = markRef.current;
      if (mark) {
        const m = scene.current.marked[0];
        if (m === undefined) mark.style.display = 'none';
        else {
          const [x, y] = toScreen(scene.current, s.view, m, w, h);
          mark.style.display = 'block';
          mark.style.transform = `translate(${x - 14}px, ${y - 14}px)`;
        }
      }
      // Frame count for tests and benchmarks: a property, not an attribute (no style work per frame).
      const counted = box as HTMLDivElement & { framesDrawn?: number };
      counted.framesDrawn = (counted.framesDrawn ?? 0) + 1;
      if (counted.framesDrawn === 1) {
        box.dataset.firstFrameAt = String(performance.now());
        box.dataset.frames = '1';
      }
    };
    raf = requestAnimationFrame(frame);
    settle();
    const ro = new ResizeObserver(() => {
      resize();
      settle();
    });
    ro.observe(box);

    let drag: { x: number; y: number; moved: boolean } | null = null;
    const local = (e: MouseEvent): [number, number] => {
      const r = el.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    const onDown = (e: PointerEvent): void => {
      drag = { x: e.clientX, y: e.clientY, moved: false };
      box.setPointerCapture(e.pointerId);
    };
    const onMove = (e: PointerEvent): void => {
      const s = state.current!;
      if (drag) {
        const dx = e.clientX - drag.x,
          dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
        drag.x = e.clientX;
        drag.y = e.clientY;
        const sy = scene.current.yDown ? 1 : -1;
        s.view = { ...s.view, cx: s.view.cx - dx / s.view.k, cy: s.view.cy - (sy * dy) / s.view.k };
        s.dirty = true;
        setHover(null);
        settle();
        return;
      }
      const [x, y] = local(e);
      const [w, h] = s.size;
      const radius = s.thumbView ? 60 : 8;
      const i = pick(scene.current, s.view, x, y, w, h, radius);
      setHover(i < 0 ? null : { i, x, y });
    };
    const onUp = (e: PointerEvent): void => {
      const d = drag;
      drag = null;
      if (d && !d.moved) {
        const s = state.current!;
        const [x, y] = local(e);
        const i = pick(scene.current, s.view, x, y, s.size[0], s.size[1], s.thumbView ? 60 : 8);
        if (i >= 0) navigate(href('still', layout.ids[i]));
      }
    };
    const onWheel = (e: WheelEvent): void => {
      e.preventDefault();
      const s = state.current!;
      const [x, y] = local(e);
      const [w, h] = s.size;
      const f = Math.exp(-e.deltaY * 0.0015);
      const sy = scene.current.yDown ? 1 : -1;
      const px = (x - w / 2) / s.view.k + s.view.cx;
      const py = (sy * (y - h / 2)) / s.view.k + s.view.cy;
      const k = Math.max(1e-6, Math.min(1e7, s.view.k * f));
      s.view = { k, cx: px - (x - w / 2) / k, cy: py - (sy * (y - h / 2)) / k };
      s.dirty = true;
      setHover(null);
      settle();
    };
    const onLeave = (): void => setHover(null);
    box.addEventListener('pointerdown', onDown);
    box.addEventListener('pointermove', onMove);
    box.addEventListener('pointerup', onUp);
    box.addEventListener('pointerleave', onLeave);
    box.addEventListener('wheel', onWheel, { passive: false });
    // For scripted checks and benchmarks: the current view, settable.
    (box as unknown as { mapView: unknown }).mapView = {
      get: () => ({ ...state.current!.view }),
      set: (v: View) => {
        state.current!.view = { ...v };
        state.current!.dirty = true;
        settle();
      },
    };
    return () => {
      cancelAnimationFrame(raf);
      window.clearTimeout(settleTimer);
      ro.disconnect();
      box.removeEventListener('pointerdown', onDown);
      box.removeEventListener('pointermove', onMove);
      box.removeEventListener('pointerup', onUp);
      box.removeEventListener('pointerleave', onLeave);
      box.removeEventListener('wheel', onWheel);
      renderer.destroy();
    };
    // The map is rebuilt only for a new layout (its key); colours and paths are redrawn in place.
  }, []);

  useEffect(() => {
    if (state.current) state.current.dirty = true;
  }, [colors, path, focusRow]);

  return (
    <div class="points-map" ref={wrap} data-testid="points-map">
      <canvas ref={canvas} />
      <div class="thumbs" ref={thumbsRef}>
        {thumbs.map((t) => (
          <img
            key={t.i}
            src={stillImage(layout.ids[t.i])}
            alt=""
            style={{
              left: `${t.x}px`,
              top: `${t.y}px`,
              width: `${t.w}px`,
              height: `${t.h}px`,
              opacity: colors[4 * t.i + 3] === 255 ? 1 : 0.25,
              borderBottom: `3px solid rgb(${colors[4 * t.i]},${colors[4 * t.i + 1]},${colors[4 * t.i + 2]})`,
              zIndex: colors[4 * t.i + 3] === 255 ? 1 : 0,
            }}
            data-still={layout.ids[t.i]}
          />
        ))}
      </div>
      <canvas class="path-overlay" ref={overlayRef} />
      <div class="mark" ref={markRef} />
      {hover && <HoverTooltip layout={layout} movieById={movieById} hover={hover} />}
    </div>
  );
}

function DeepZoomMap({
  layout,
  colors,
  selected,
  movieById,
  path,
  focusRow,
}: MapProps & { colors: Uint8Array; selected: Uint8Array | null }) {
  const wrap = useRef<HTMLDivElement>(null);
  const osdEl = useRef<HTMLDivElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const viewerRef = useRef<OpenSeadragon.Viewer | null>(null);
  const [hover, setHover] = useState<{ i: number; x: number; y: number } | null>(null);
  const cols = layout.grid?.cols ?? 1;
  const cellAt = useMemo(() => {
    const m = new Int32Array(cols * (layout.grid?.rows ?? 1)).fill(-1);
    for (let i = 0; i < layout.ids.length; i++) m[layout.xy[2 * i + 1] * cols + layout.xy[2 * i]] = i;
    return m;
  }, [layout, cols]);
  const drawRef = useRef<() => void>(() => undefined);

  drawRef.current = () => {
    const v = viewerRef.current;
    const c = overlay.current;
    if (!v || !c || !wrap.current) return;
    const w = wrap.current.clientWidth,
      h = wrap.current.clientHeight;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    if (c.width !== Math.round(w * dpr)) c.width = Math.round(w * dpr);
    if (c.height !== Math.round(h * dpr)) c.height = Math.round(h * dpr);
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const toEl = (x: number, y: number): OpenSeadragon.Point =>
      v.viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
    const o = toEl(0, 0);
    const cell = toEl(224, 126);
    const cw = cell.x - o.x,
      ch = cell.y - o.y;
    if (selected) {
      // Dim what is not selected, cell by cell for the cells in view.
      ctx.fillStyle = 'rgba(0,0,0,0.72)';
      const c0 = Math.max(0, Math.floor(-o.x / cw)),
        c1 = Math.min(cols - 1, Math.floor((w - o.x) / cw));
      const r0 = Math.max(0, Math.floor(-o.y / ch)),
        r1 = Math.min((layout.grid?.rows ?? 1) - 1, Math.floor((h - o.y) / ch));
      if ((c1 - c0 + 1) * (r1 - r0 + 1) <= 400000) {
        for (let r = r0; r <= r1; r++)
          for (let col = c0; col <= c1; col++) {
            const i = cellAt[r * cols + col];
            if (i >= 0 && selected[i]) continue;
            ctx.fillRect(o.x + col * cw, o.y + r * ch, Math.ceil(cw), Math.ceil(ch));
          }
      }
    }
    if (cw >= 16) {
      // The colouring as a strip along the bottom of each cell in view.
      const c0 = Math.max(0, Math.floor(-o.x / cw)),
        c1 = Math.min(cols - 1, Math.floor((w - o.x) / cw));
      const r0 = Math.max(0, Math.floor(-o.y / ch)),
        r1 = Math.min((layout.grid?.rows ?? 1) - 1, Math.floor((h - o.y) / ch));
      const bar = Math.max(2, Math.min(8, ch * 0.06));
      for (let r = r0; r <= r1; r++)
        for (let col = c0; col <= c1; col++) {
          const i = cellAt[r * cols + col];
          if (i < 0) continue;
          ctx.fillStyle = `rgb(${colors[4 * i]},${colors[4 * i + 1]},${colors[4 * i + 2]})`;
          ctx.fillRect(o.x + col * cw, o.y + (r + 1) * ch - bar, Math.ceil(cw), bar);
        }
    }
    if (path && path.length > 1) {
      ctx.strokeStyle = '#ffd933';
      ctx.lineWidth = 2;
      ctx.beginPath();
      path.forEach((i, j) => {
        const x = o.x + (layout.xy[2 * i] + 0.5) * cw,
          y = o.y + (layout.xy[2 * i + 1] + 0.5) * ch;
        if (j === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.stroke();
    }
    if (focusRow !== null) {
      ctx.strokeStyle = '#ffd933';
      ctx.lineWidth = 3;
      ctx.strokeRect(o.x + layout.xy[2 * focusRow] * cw, o.y + layout.xy[2 * focusRow + 1] * ch, cw, ch);
    }
  };

  useEffect(() => {
    const viewer = OpenSeadragon({
      element: osdEl.current!,
      tileSources: layout.deepzoom!.dzi,
      showNavigationControl: false,
      showNavigator: false,
      gestureSettingsMouse: { clickToZoom: false },
      maxZoomPixelRatio: 4,
      visibilityRatio: 0.5,
      animationTime: 0.4,
      crossOriginPolicy: false,
    });
    viewerRef.current = viewer;
    (wrap.current as unknown as { osd: unknown }).osd = viewer;
    const redraw = (): void => drawRef.current();
    viewer.addHandler('open', () => {
      wrap.current!.dataset.ready = '1';
      if (focusRow !== null) {
        const x = layout.xy[2 * focusRow] * 224,
          y = layout.xy[2 * focusRow + 1] * 126;
        const r = viewer.viewport.imageToViewportRectangle(x - 224 * 3, y - 126 * 3, 224 * 7, 126 * 7);
        viewer.viewport.fitBounds(r, true);
      }
      redraw();
    });
    viewer.addHandler('animation', redraw);
    viewer.addHandler('update-viewport', redraw);
    viewer.addHandler('resize', redraw);
    const cellOf = (e: MouseEvent): number => {
      const r = osdEl.current!.getBoundingClientRect();
      const pt = viewer.viewport.viewerElementToImageCoordinates(
        new OpenSeadragon.Point(e.clientX - r.left, e.clientY - r.top),
      );
      const col = Math.floor(pt.x / 224),
        row = Math.floor(pt.y / 126);
      if (col < 0 || row < 0 || col >= cols || row >= (layout.grid?.rows ?? 0)) return -1;
      return cellAt[row * cols + col];
    };
    let down: [number, number] | null = null;
    const el = osdEl.current!;
    const onMove = (e: MouseEvent): void => {
      const i = cellOf(e);
      const r = el.getBoundingClientRect();
      setHover(i < 0 ? null : { i, x: e.clientX - r.left, y: e.clientY - r.top });
    };
    const onDown = (e: MouseEvent): void => {
      down = [e.clientX, e.clientY];
    };
    const onUp = (e: MouseEvent): void => {
      if (down && Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]) < 4) {
        const i = cellOf(e);
        if (i >= 0) navigate(href('still', layout.ids[i]));
      }
      down = null;
    };
    const onLeave = (): void => setHover(null);
    // Capture phase: OpenSeadragon's own pointer handlers on the inner elements see these after us.
    el.addEventListener('pointermove', onMove, true);
    el.addEventListener('pointerdown', onDown, true);
    el.addEventListener('pointerup', onUp, true);
    el.addEventListener('pointerleave', onLeave);
    return () => {
      el.removeEventListener('pointermove', onMove, true);
      el.removeEventListener('pointerdown', onDown, true);
      el.removeEventListener('pointerup', onUp, true);
      el.removeEventListener('pointerleave', onLeave);
      viewer.destroy();
      viewerRef.current = null;
    };
  }, []);

  useEffect(() => drawRef.current(), [colors, selected, path, focusRow]);

  return (
    <div class="deepzoom-map" ref={wrap} data-testid="deepzoom-map">
      <div class="osd" ref={osdEl} />
      <canvas class="overlay" ref={overlay} />
      {hover && <HoverTooltip layout={layout} movieById={movieById} hover={hover} />}
    </div>
  );
}
