/**
 * Where things are on film-grab.com. The whole crawler reads the site through this
 * one table, so when the site changes its markup the fix is one line here.
 *
 * | key            | what it finds                                                                  |
 * |----------------|--------------------------------------------------------------------------------|
 * | indexPath      | the A–Z list of every movie, relative to the site root                         |
 * | indexLinks     | on the A–Z page: one link per movie (href = movie page, text = its name)       |
 * | pageTitle      | on a movie page: the document title, `Title – FILMGRAB`                        |
 * | titleSuffix    | what is cut from the end of that title (en dash, hyphen or bar, then FILMGRAB) |
 * | heading        | fallback title when the page has no usable `<title>`                           |
 * | content        | the post body that holds the credit lines                                      |
 * | creditBlocks   | elements inside `content` whose text lines are `Label: value` credits          |
 * | galleryImages  | Photo Gallery plugin: one link per still, in film order (href = full image)    |
 * | galleryZip     | Photo Gallery plugin: the "download gallery" zip of all stills                 |
 * | noise          | elements removed before reading credits (styles, scripts, the gallery itself)  |
 */
export const SELECTORS = {
  indexPath: '/movies-a-z/',
  indexLinks: 'ul.display-posts-listing li a',
  pageTitle: 'title',
  titleSuffix: /\s*[–—|-]\s*FILMGRAB\s*\]?\s*$/i,
  heading: 'h1.entry-title, article h1, h1',
  content: '.entry-content, article, body',
  creditBlocks: 'p, div, li, td',
  galleryImages: 'div.bwg-item a[href]',
  galleryZip: 'div.bwg_download_gallery a[href]',
  noise:
    'script, style, noscript, template, iframe, svg, div.bwg_container, div.bwg-item, div.bwg_download_gallery',
} as const;

export type FilmGrabSelectors = typeof SELECTORS;
