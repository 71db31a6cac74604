/**
 * Container names when none is given: adjective_surname like Docker's
 * ("quirky_hopper"), from our own short lists of moods and of scientists and
 * engineers.
 */
const ADJECTIVES = [
  "admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave", "busy", "charming",
  "clever", "compassionate", "competent", "condescending", "confident", "cool", "cranky", "crazy", "dazzling",
  "determined", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "epic", "exciting", "fervent",
  "festive", "flamboyant", "focused", "friendly", "frosty", "funny", "gallant", "gifted", "goofy", "gracious",
  "great", "happy", "hopeful", "hungry", "infallible", "inspiring", "intelligent", "interesting", "jolly",
  "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty",
  "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive",
  "practical", "priceless", "quirky", "quizzical", "relaxed", "reverent", "romantic", "serene", "sharp", "silly",
  "sleepy", "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled",
  "upbeat", "vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
];

const SURNAMES = [
  "agnesi", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bell", "bhabha", "blackwell",
  "bohr", "boole", "borg", "bose", "brahmagupta", "brattain", "cannon", "carson", "cerf", "chandrasekhar",
  "clarke", "colden", "curie", "darwin", "dijkstra", "easley", "einstein", "elion", "engelbart", "euclid",
  "euler", "faraday", "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "germain", "goldberg",
  "goodall", "hamilton", "hawking", "heisenberg", "hertz", "hodgkin", "hopper", "hypatia", "jackson", "jemison",
  "johnson", "kepler", "khorana", "knuth", "kowalevski", "lamarr", "lamport", "leakey", "liskov", "lovelace",
  "lumiere", "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "mirzakhani", "morse", "napier", "newton",
  "nightingale", "nobel", "noether", "pascal", "pasteur", "perlman", "pike", "poincare", "ramanujan", "ritchie",
  "rosalind", "sammet", "shannon", "shockley", "sinoussi", "stonebraker", "swanson", "tesla", "thompson",
  "torvalds", "turing", "varahamihira", "wiles", "williams", "wozniak", "wright", "yalow", "yonath",
];

export function generateName(random: () => number = Math.random): string {
  const pick = (a: readonly string[]): string => a[Math.floor(random() * a.length)]!;
  return `${pick(ADJECTIVES)}_${pick(SURNAMES)}`;
}

/** Docker's rule for --name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
