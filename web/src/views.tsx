/** The still, movie and clusters views. All text is rendered by preact as text nodes, never as HTML. */
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  clusterList,
  colourSearch,
  compareMovies,
  movieDetail,
  similarMovies,
  similarStills,
  stillDetail,
  stillImage,
  type AtlasSummary,
  type ClusterInfo,
  type Movie,
  type PaletteColour,
} from './api';
import { meanColor, paletteOf, rgbHex } from './colors';
import { href, navigate, type Route } from './route';

type Swatch = { color: [number, number, number]; share: number };

/** Swatches from palette colours (full ones, or a cluster's hex and share). */
function fromHex(p: Pick<PaletteColour, 'hex' | 'share'>[]): Swatch[] {
  return p.map((c) => ({
    color: [
      parseInt(c.hex.slice(1, 3), 16),
      parseInt(c.hex.slice(3, 5), 16),
      parseInt(c.hex.slice(5, 7), 16),
    ],
    share: c.share,
  }));
}

/** Loads a value for a key; re-runs when the key changes. */
function useLoad<T>(key: string, load: () => Promise<T>): { value: T | null; error: string | null } {
  const [state, setState] = useState<{ key: string; value: T | null; error: string | null }>({
    key: '',
    value: null,
    error: null,
  });
  useEffect(() => {
    let live = true;
    setState({ key, value: null, error: null });
    load().then(
      (value) => live && setState({ key, value, error: null }),
      (e: Error) => live && setState({ key, value: null, error: e.message }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  return state.key === key ? state : { value: null, error: null };
}

function mapLayout(summary: AtlasSummary): string | undefined {
  return (summary.layouts.find((l) => l.kind === 'points') ?? summary.layouts[0])?.name;
}

function Palette({ colors }: { colors: { color: [number, number, number]; share: number }[] }) {
  return (
    <div class="palette" data-testid="palette">
      {colors.map((c) => (
        <span
          style={{ background: rgbHex(c.color), flexGrow: c.share }}
          title={`${rgbHex(c.color)} ${(c.share * 100).toFixed(0)}%`}
        />
      ))}
    </div>
  );
}

/** One movie's side of a DTW alignment: its label, then its stills along the path. */
function AlignedRow({ movie, stills }: { movie: Movie; stills: number[] }) {
  return (
    <div class="row">
      <span class="rowlabel">
        <a href={href('movie', movie.id)}>{movie.label}</a>
      </span>
      {stills.map((id) => (
        <Thumb id={id} />
      ))}
    </div>
  );
}

/** A palette as equal swatches (colour search results). */
function SwatchStrip({ colours }: { colours: string[] }) {
  return (
    <div class="palette small">
      {colours.map((c) => (
        <span style={{ background: c, flexGrow: 1 }} />
      ))}
    </div>
  );
}

function Credits({ movie }: { movie: Movie }) {
  const rows: [string, string | number | null][] = [
    ['Year', movie.year],
    ['Director', movie.director],
    ['Cinematographer', movie.cinematographer],
    ['Production design', movie.productionDesign],
    ['Costume design', movie.costumeDesign],
    ...Object.entries(movie.attributes),
  ];
  return (
    <dl class="credits">
      {rows
        .filter(([, v]) => v !== null && v !== '')
        .map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
    </dl>
  );
}

function Thumb({ id, label }: { id: number; label?: string }) {
  return (
    <a href={href('still', id)} class="thumb" title={label}>
      <img src={stillImage(id)} alt={label ?? `still ${id}`} loading="lazy" />
    </a>
  );
}

export function StillView({
  id,
  summary,
  movieById,
}: {
  id: number;
  summary: AtlasSummary;
  movieById: Map<number, Movie>;
}) {
  const d = useLoad(`still:${id}`, () => stillDetail(id));
  const sim = useLoad(`sim:${id}`, () => similarStills(id, 12));
  const [palette, setPalette] = useState<{ color: [number, number, number]; share: number }[]>([]);
  if (d.error) return <div class="error">{d.error}</div>;
  if (!d.value) return <div class="loading">Loading still {id}…</div>;
  const { still, movie, position, prev, next } = d.value;
  const layout = mapLayout(summary);
  return (
    <div class="still-view" data-testid="still-view">
      <div class="still-main">
        <img
          class="still-large"
          src={stillImage(still.id)}
          alt={movie ? `${movie.label}, still ${position + 1}` : `still ${still.id}`}
          onLoad={(e) => {
            if (!d.value?.palette) setPalette(paletteOf(e.currentTarget as HTMLImageElement));
          }}
        />
        <Palette colors={d.value.palette ? fromHex(d.value.palette) : palette} />
        <div class="still-nav">
          {prev !== null && <a href={href('still', prev)}>← previous</a>}
          {movie && (
            <span>
              still {position + 1} of {movie.stills}
            </span>
          )}
          {next !== null && <a href={href('still', next)}>next →</a>}
        </div>
      </div>
      <div class="still-side">
        {movie && (
          <>
            <h2>
              <a href={href('movie', movie.id)} data-testid="movie-link">
                {movie.label}
              </a>
            </h2>
            <Credits movie={movie} />
          </>
        )}
        <p class="muted">
          Still {still.id} · {still.file}
          {still.width ? ` · original ${still.width}×${still.height}` : ''}
        </p>
        {layout && (
          <p>
            <a
              href={href('map', null, { layout, focus: still.id, movie: still.movieId })}
              data-testid="find-on-map"
            >
              Find on the map
            </a>
          </p>
        )}
      </div>
      <div class="still-similar">
        <h3>Nearest stills{sim.value ? ` (${sim.value.model})` : ''}</h3>
        {sim.error && <p class="error">{sim.error}</p>}
        <div class="thumb-grid" data-testid="similar-stills">
          {sim.value?.neighbours.map((n) => (
            <figure>
              <Thumb id={n.id} label={movieById.get(n.movieId)?.label} />
              <figcaption>
                {movieById.get(n.movieId)?.label ?? ''} <span class="muted">{n.distance.toFixed(3)}</span>
              </figcaption>
            </figure>
          ))}
        </div>
      </div>
    </div>
  );
}

function Barcode({ ids, stored }: { ids: number[]; stored: PaletteColour[] | null }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [palette, setPalette] = useState<{ color: [number, number, number]; share: number }[]>([]);
  useEffect(() => {
    let live = true;
    const colors: ([number, number, number] | null)[] = ids.map(() => null);
    const all: { color: [number, number, number]; share: number }[][] = [];
    let pending = ids.length;
    const draw = (): void => {
      const c = canvas.current;
      if (!c || !live) return;
      const ctx = c.getContext('2d')!;
      const w = c.width / Math.max(1, ids.length);
      colors.forEach((col, i) => {
        ctx.fillStyle = col ? rgbHex(col) : '#222';
        ctx.fillRect(Math.floor(i * w), 0, Math.ceil(w), c.height);
      });
    };
    ids.forEach((id, i) => {
      const img = new Image();
      img.onload = () => {
        colors[i] = meanColor(img);
        if (i % 4 === 0) all.push(paletteOf(img, 3));
        if (--pending === 0 && live) {
          draw();
          // The movie's palette: the most common colours over a sample of its stills.
          const merged = all.flat().sort((a, b) => b.share - a.share);
          const picked: { color: [number, number, number]; share: number }[] = [];
          for (const m of merged) {
            if (picked.length >= 6) break;
            if (picked.every((p) => p.color.reduce((s, v, j) => s + (v - m.color[j]) ** 2, 0) > 1600))
              picked.push(m);
          }
          setPalette(picked);
        } else if (pending % 16 === 0) draw();
      };
      img.onerror = () => {
        if (--pending === 0) draw();
      };
      img.src = stillImage(id);
    });
    return () => {
      live = false;
    };
  }, [ids.join(',')]);
  return (
    <>
      <h3>Barcode</h3>
      <canvas class="barcode" ref={canvas} width={1000} height={60} data-testid="barcode" />
      <h3>Palette</h3>
      <Palette colors={stored ? fromHex(stored) : palette} />
    </>
  );
}

export function MovieView({ id, summary }: { id: number; summary: AtlasSummary }) {
  const d = useLoad(`movie:${id}`, () => movieDetail(id));
  const sim = useLoad(`simmovie:${id}`, () => similarMovies(id, 8));
  if (d.error) return <div class="error">{d.error}</div>;
  if (!d.value) return <div class="loading">Loading movie {id}…</div>;
  const { movie, stills, palette } = d.value;
  const layout = mapLayout(summary);
  return (
    <div class="movie-view" data-testid="movie-view">
      <h2 data-testid="movie-title">{movie.label}</h2>
      <Credits movie={movie} />
      {movie.sourceUrl && /^https?:\/\//.test(movie.sourceUrl) && (
        <p>
          <a href={movie.sourceUrl} rel="noopener noreferrer" target="_blank">
            source
          </a>
        </p>
      )}
      {layout && (
        <p>
          <a href={href('map', null, { layout, movie: movie.id, path: movie.id })} data-testid="movie-on-map">
            Show its stills on the map, in film order
          </a>
        </p>
      )}
      <h3>Sequence ({stills.length} stills in film order)</h3>
      <div class="strip" data-testid="sequence">
        {stills.map((s) => (
          <Thumb id={s} />
        ))}
      </div>
      <Barcode ids={stills} stored={palette} />
      <h3>Movies with similar looks{sim.value ? ` (${sim.value.model})` : ''}</h3>
      {sim.error && <p class="error">{sim.error}</p>}
      <ul class="similar-movies" data-testid="similar-movies">
        {sim.value?.movies.map((m) => (
          <li>
            {m.movie.cover !== null && <img src={stillImage(m.movie.cover)} alt="" loading="lazy" />}
            <div>
              <a href={href('movie', m.movie.id)}>{m.movie.label}</a>{' '}
              <a class="muted" href={href('compare', null, { a: movie.id, b: m.movie.id })}>
                compare
              </a>
              <ul class="reasons">
                {m.reasons.map((r) => (
                  <li>{r}</li>
                ))}
              </ul>
              <div class="pairs">
                {m.pairs.map((pr) => (
                  <span class="pair" title={`similarity ${pr.similarity}`}>
                    <Thumb id={pr.a} />
                    <Thumb id={pr.b} />
                  </span>
                ))}
              </div>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function ClustersView({ summary }: { summary: AtlasSummary }) {
  const d = useLoad('clusters', () => clusterList());
  if (summary.clusters.length === 0) {
    return (
      <div class="empty">
        <h2>No clusters yet</h2>
        <p>This atlas has no clustering; cluster its stills (the looks stage), then reload.</p>
      </div>
    );
  }
  if (d.error) return <div class="error">{d.error}</div>;
  if (!d.value) return <div class="loading">Loading clusters…</div>;
  const layout = mapLayout(summary);
  return (
    <div class="clusters-view" data-testid="clusters-view">
      <h2>
        Clusters: {d.value.name} ({d.value.clusters.length})
      </h2>
      {d.value.clusters.map((c: ClusterInfo) => (
        <section class="cluster">
          <h3>
            {c.label} <span class="muted">{c.size} stills</span>{' '}
            {layout && (
              <a href={href('map', null, { layout, cluster: c.label, color: 'cluster' })}>on the map</a>
            )}
          </h3>
          {c.palette && <Palette colors={fromHex(c.palette)} />}
          <div class="thumb-grid">
            {c.medoids.map((id) => (
              <Thumb id={id} />
            ))}
          </div>
          <p>
            {c.movies.map((m, i) => (
              <>
                {i > 0 && ', '}
                {m.id !== null ? <a href={href('movie', m.id)}>{m.label}</a> : m.label}{' '}
                <span class="muted">({m.stills})</span>
              </>
            ))}
          </p>
        </section>
      ))}
    </div>
  );
}

const DEFAULT_COLOURS = '#1f3a4d,#e08a3c';

export function SearchView({ route, summary }: { route: Route; summary: AtlasSummary }) {
  const colours = route.params.get('colours') || DEFAULT_COLOURS;
  const target = route.params.get('target') === 'movies' ? 'movies' : 'stills';
  const list = colours.split(',').filter(Boolean);
  const r = useLoad(`search:${colours}:${target}`, () =>
    summary.palettes ? colourSearch(colours, target) : Promise.reject(new Error('no palettes yet')),
  );
  const set = (next: string[], t = target): void =>
    navigate(href('search', null, { colours: next.join(','), target: t }), true);
  return (
    <div class="search-view" data-testid="search-view">
      <h2>Colour search</h2>
      {!summary.palettes && (
        <p class="muted">
          This atlas has no palettes yet: run <code>filmatlas palette --atlas DIR</code>, then reload.
        </p>
      )}
      <div class="controls">
        {list.map((c, i) => (
          <span class="pick">
            <input
              type="color"
              value={/^#[0-9a-f]{6}$/i.test(c.split(':')[0]) ? c.split(':')[0] : '#808080'}
              onChange={(e) => set(list.map((x, j) => (j === i ? (e.target as HTMLInputElement).value : x)))}
            />
            {list.length > 1 && (
              <button type="button" onClick={() => set(list.filter((_, j) => j !== i))} title="remove">
                ×
              </button>
            )}
          </span>
        ))}
        {list.length < 8 && (
          <button type="button" onClick={() => set([...list, '#808080'])}>
            + colour
          </button>
        )}
        <label>
          Find{' '}
          <select
            value={target}
            onChange={(e) =>
              set(list, (e.target as HTMLSelectElement).value === 'movies' ? 'movies' : 'stills')
            }
          >
            <option value="stills">stills</option>
            <option value="movies">movies</option>
          </select>
        </label>
      </div>
      {summary.palettes && r.error && <p class="error">{r.error}</p>}
      {r.value?.stills && (
        <div class="thumb-grid" data-testid="colour-results">
          {r.value.stills.map((h) => (
            <figure>
              <Thumb id={h.id} />
              <SwatchStrip colours={h.palette} />
              <figcaption class="muted">distance {h.distance.toFixed(1)} ΔE</figcaption>
            </figure>
          ))}
        </div>
      )}
      {r.value?.movies && (
        <ul class="similar-movies" data-testid="colour-results">
          {r.value.movies.map((h) =>
            h.movie ? (
              <li>
                {h.movie.cover !== null && <img src={stillImage(h.movie.cover)} alt="" loading="lazy" />}
                <div>
                  <a href={href('movie', h.movie.id)}>{h.movie.label}</a>
                  <SwatchStrip colours={h.palette} />
                  <span class="muted">distance {h.distance.toFixed(1)} ΔE</span>
                </div>
              </li>
            ) : null,
          )}
        </ul>
      )}
    </div>
  );
}

export function CompareView({ route, movies }: { route: Route; movies: Movie[] }) {
  const num = (k: string): number | null => {
    const v = route.params.get(k);
    return v && /^\d+$/.test(v) ? Number(v) : null;
  };
  const a = num('a') ?? movies[0]?.id ?? null;
  const b = num('b') ?? movies[1]?.id ?? null;
  const r = useLoad(`compare:${a}:${b}`, () =>
    a !== null && b !== null ? compareMovies(a, b) : Promise.reject(new Error('pick two movies')),
  );
  const pickMovie = (k: 'a' | 'b', v: string): void =>
    navigate(href('compare', null, { a: k === 'a' ? v : a, b: k === 'b' ? v : b }), true);
  return (
    <div class="compare-view" data-testid="compare-view">
      <h2>Compare two movies</h2>
      <div class="controls">
        {(['a', 'b'] as const).map((k) => (
          <select
            value={String(k === 'a' ? a : b)}
            onChange={(e) => pickMovie(k, (e.target as HTMLSelectElement).value)}
          >
            {movies.map((m) => (
              <option value={m.id}>{m.label}</option>
            ))}
          </select>
        ))}
      </div>
      {r.error && <p class="error">{r.error}</p>}
      {r.value && (
        <>
          <p>
            Aligned by dynamic time warping over {r.value.model} features: mean distance along the path{' '}
            <b>{r.value.distance.toFixed(3)}</b> ({r.value.pathLength} steps). Rhythm (change between
            consecutive stills): {r.value.a.movie.label} {r.value.a.rhythmMean.toFixed(3)},{' '}
            {r.value.b.movie.label} {r.value.b.rhythmMean.toFixed(3)}.
          </p>
          <div class="aligned" data-testid="aligned">
            <AlignedRow movie={r.value.a.movie} stills={r.value.aligned.map((p) => p.a)} />
            <AlignedRow movie={r.value.b.movie} stills={r.value.aligned.map((p) => p.b)} />
          </div>
        </>
      )}
    </div>
  );
}
