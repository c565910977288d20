/**
 * Invented names for sample movies: titles (kept unique within a collection), crew
 * names, and the slugs some movies name their still files after.
 */
import type { Random } from '../../numeric/random.js';

const ADJECTIVES = [
  'Silent',
  'Last',
  'Long',
  'Broken',
  'Golden',
  'Hidden',
  'Crimson',
  'Distant',
  'Burning',
  'Quiet',
  'Cold',
  'Empty',
  'Lost',
  'Paper',
  'Glass',
  'Iron',
  'Velvet',
  'Hollow',
  'Bright',
  'Final',
  'Secret',
  'Wild',
  'Blue',
  'Pale',
  'Northern',
  'Electric',
  'Sleeping',
  'Falling',
  'Forgotten',
  'Midnight',
  'Restless',
  'Salt',
  'Winter',
  'Second',
  'Borrowed',
  'Drowned',
  'Little',
  'Endless',
  'Crooked',
  'Sudden',
];
const NOUNS = [
  'River',
  'Harbour',
  'Night',
  'Garden',
  'Mirror',
  'City',
  'Summer',
  'Road',
  'House',
  'Station',
  'Island',
  'Shadow',
  'Light',
  'Storm',
  'Orchard',
  'Tower',
  'Hotel',
  'Machine',
  'Letter',
  'Season',
  'Horizon',
  'Desert',
  'Frontier',
  'Lantern',
  'Signal',
  'Border',
  'Valley',
  'Coast',
  'Carousel',
  'Bridge',
  'Window',
  'Orchestra',
  'Kingdom',
  'Echo',
  'Tide',
  'Voyage',
  'Promise',
  'Witness',
  'Circus',
  'Lighthouse',
];
const PLACES = [
  'Marseille',
  'Lisbon',
  'Trieste',
  'Oslo',
  'Havana',
  'Kyoto',
  'Tangier',
  'Odessa',
  'Valparaíso',
  'Reykjavík',
  'Naples',
  'Galway',
];
const FAREWELLS = ['Goodbye', 'Farewell', 'Hello', 'Remember', 'Listen'];
const FIRST_NAMES = [
  'Marta',
  'Jonas',
  'Aiko',
  'Tomás',
  'Ingrid',
  'Rafael',
  'Noor',
  'Pavel',
  'Léa',
  'Kwame',
  'Sofia',
  'Henrik',
  'Mei',
  'Dario',
  'Amara',
  'Felix',
  'Yusuf',
  'Clara',
  'Bruno',
  'Ana',
  'Oskar',
  'Priya',
  'Luca',
  'Elif',
  'Mateo',
  'Greta',
  'Kenji',
  'Zofia',
  'Idris',
  'Margot',
  'Ravi',
  'Hanna',
  'Emil',
  'Selma',
  'Nico',
  'Ilse',
  'Tariq',
  'Vera',
  'Anselm',
  'June',
];
const SURNAMES = [
  'Lindqvist',
  'Moreau',
  'Okafor',
  'Tanaka',
  'Castellano',
  'Novak',
  'Brennan',
  'Haddad',
  'Kowalski',
  'Ferreira',
  'Achterberg',
  'Santoro',
  'Whitlock',
  'Ivanova',
  'Delacroix',
  'Mbeki',
  'Halloran',
  'Szabo',
  'Esposito',
  'Rahimi',
  'Vidal',
  'Kaur',
  'Oyelaran',
  'Lindgren',
  'Marchetti',
  "O'Donnell",
  'Dubois',
  'Yamamoto',
  'Petrov',
  'Quintero',
  'Abernathy',
  'Virtanen',
  'Castro',
  'Falk',
  'Nakamura',
  'Rossi',
  'Adeyemi',
  'Van Dijk',
  'Sørensen',
  'Holloway',
];
const ROMAN = ['II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X'];

function inventTitle(rng: Random): string {
  const pattern = rng.weighted([0, 1, 2, 3, 4, 5], [4, 3, 2, 1, 1, 1]);
  switch (pattern) {
    case 0:
      return `The ${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
    case 1:
      return `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
    case 2:
      return `The ${rng.pick(NOUNS)} of the ${rng.pick(NOUNS)}`;
    case 3: {
      const noun = rng.pick(NOUNS);
      return `${/^[AEIOU]/.test(noun) ? 'An' : 'A'} ${noun} in ${rng.pick(PLACES)}`;
    }
    case 4:
      return `${rng.pick(FIRST_NAMES)}'s ${rng.pick(NOUNS)}`;
    default:
      // A comma in a title: movies.csv must quote it.
      return `${rng.pick(FAREWELLS)}, ${rng.pick(NOUNS)}`;
  }
}

/** A first name and a surname. */
export const inventName = (rng: Random): string => `${rng.pick(FIRST_NAMES)} ${rng.pick(SURNAMES)}`;

/** `s` as lower-case ASCII words joined by hyphens (accents dropped). */
export function slugify(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/**
 * A title none of `taken` (lower-cased titles) has: up to 40 more draws, then the
 * title with a sequel numeral (`II`, `III`, … `X`, then `II 2`, …).
 */
export function inventUniqueTitle(rng: Random, taken: ReadonlySet<string>): string {
  let title = inventTitle(rng);
  for (let tries = 0; taken.has(title.toLowerCase()) && tries < 40; tries++) title = inventTitle(rng);
  for (let n = 0; taken.has(title.toLowerCase()); n++) {
    const base = title.replace(/ [IVX]+$/, '');
    title = `${base} ${ROMAN[n % ROMAN.length]}${n >= ROMAN.length ? ` ${Math.floor(n / ROMAN.length) + 1}` : ''}`;
  }
  return title;
}
