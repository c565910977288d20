/** The Film Atlas explorer: a header with the views, and the view the URL names. */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { allMovies, atlasSummary, type AtlasSummary, type Movie } from './api';
import { MapView } from './map';
import { href, useRoute } from './route';
import { ClustersView, CompareView, MovieView, SearchView, StillView } from './views';
import './style.css';

function App() {
  const route = useRoute();
  const [summary, setSummary] = useState<AtlasSummary | null>(null);
  const [movies, setMovies] = useState<Movie[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    atlasSummary()
      .then(async (s) => {
        setSummary(s);
        setMovies(await allMovies(s));
      })
      .catch((e: Error) => setError(e.message));
  }, []);
  const movieById = useMemo(() => new Map((movies ?? []).map((m) => [m.id, m])), [movies]);
  useEffect(() => {
    const t = summary ? `Film Atlas — ${summary.name}` : 'Film Atlas';
    document.title = t;
  }, [summary]);

  const nav = (view: string, label: string) => (
    <a href={href(view)} class={route.view === view ? 'active' : ''}>
      {label}
    </a>
  );
  let body;
  if (error) {
    body = (
      <div class="error" data-testid="fatal">
        <h2>The atlas could not be loaded</h2>
        <p>{error}</p>
      </div>
    );
  } else if (!summary || !movies) body = <div class="loading">Loading the atlas…</div>;
  else if (route.view === 'still' && route.id !== null)
    body = <StillView id={route.id} summary={summary} movieById={movieById} />;
  else if (route.view === 'movie' && route.id !== null) body = <MovieView id={route.id} summary={summary} />;
  else if (route.view === 'clusters') body = <ClustersView summary={summary} />;
  else if (route.view === 'movies') body = <MovieIndex movies={movies} />;
  else if (route.view === 'search') body = <SearchView route={route} summary={summary} />;
  else if (route.view === 'compare') body = <CompareView route={route} movies={movies} />;
  else body = <MapView summary={summary} movies={movies} route={route} />;

  return (
    <>
      <header>
        <h1>
          <a href="#/map">Film Atlas</a>
        </h1>
        {summary && (
          <span class="muted">
            {summary.name}: {summary.movies} movies, {summary.stills} stills
          </span>
        )}
        <nav>
          {nav('map', 'Map')}
          {nav('movies', 'Movies')}
          {nav('clusters', 'Clusters')}
          {nav('search', 'Colour search')}
          {nav('compare', 'Compare')}
        </nav>
      </header>
      <main data-view={route.view}>{body}</main>
    </>
  );
}

function MovieIndex({ movies }: { movies: Movie[] }) {
  const [q, setQ] = useState('');
  const shown = movies.filter(
    (m) =>
      !q ||
      `${m.label} ${m.director ?? ''} ${m.cinematographer ?? ''}`.toLowerCase().includes(q.toLowerCase()),
  );
  return (
    <div class="movie-index" data-testid="movie-index">
      <input
        type="search"
        placeholder="Filter movies by title, director, cinematographer"
        value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)}
      />
      <ul class="movie-list">
        {shown.slice(0, 500).map((m) => (
          <li>
            {m.cover !== null && <img src={`/api/stills/${m.cover}/image`} alt="" loading="lazy" />}
            <a href={href('movie', m.id)}>{m.label}</a>{' '}
            <span class="muted">{[m.director, `${m.stills} stills`].filter(Boolean).join(' · ')}</span>
          </li>
        ))}
      </ul>
      {shown.length > 500 && <p class="muted">{shown.length - 500} more; refine the filter.</p>}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
