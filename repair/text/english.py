"""The English this package knows, in one place: word lists that the stages, the entity finder, the corpus
index and the benchmark's damage each read.

Several lists look alike and are not the same set: each was written for (and its caller's thresholds were
measured with) its own use, so they are kept apart under names that say what they are for rather than
merged into one, which would change what the callers do. Where two callers used lists that were equal
(the name connectors), they now share one. Every list is lower-case unless it says otherwise.
"""

from __future__ import annotations

# ---- function words, by what they are used for

# English function words: never anchors, and the kind of word a broken pipeline pastes or drops
_ALIGN_STOPWORD_LIST = """
    a about above after again against all am an and any are as at be because been before being below between both
    but by can cannot could did do does doing down during each either few for from further had has have having he
    her here hers herself him himself his how i if in into is it its itself just me more most my myself neither no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up upon very
    was we were what when where which while who whom whose why will with would yet you your yours yourself
    yourselves also although though whether it's that's there's he's she's they're we're i'm don't doesn't didn't
    isn't wasn't aren't weren't won't can't couldn't wouldn't shouldn't hasn't haven't hadn't
"""

ALIGN_STOPWORDS: frozenset[str] = frozenset(_ALIGN_STOPWORD_LIST.split())

# Function words of the corpus index (`repair.corpus.similar`), whose words are split at apostrophes
# ("don't" -> "dont", "Assad's" -> "assad", "s"), hence the bare clitics and the contractions without their
# apostrophe; and "said/says/say", which every news story uses, so they tell nothing of what it is about.
# (It lacks 34 of ALIGN_STOPWORDS's words and has 33 of its own; matching a corpus was tuned with this set.)
_TOPIC_STOPWORD_LIST = """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself said says say t s n re ve ll d m dont doesnt didnt isnt wasnt arent
    werent cant couldnt wont wouldnt shouldnt hasnt havent hadnt im ive youre hes shes theyre weve"""

TOPIC_STOPWORDS = frozenset(_TOPIC_STOPWORD_LIST.split())

# Function words after which `detect` weighs a pasted name (a shorter list than the anchors': no contractions)
FUNCTION_WORDS = frozenset(
    """a an the this that these those it its he his him she her they their them we our us you your i my me
    but and or nor so for if as at by in on of to from with into over after before since though while when
    where whether which who whom whose what how because then there not no is are was were be been has have
    had do does did will would can could should may might must""".split()
)

# pronouns, determiners and wh-words: two in a row rarely make English ("the he", "our how")
CLOSED_CLASS = frozenset(
    """a an the this that these those its his her their our my your he she it they we i him them us
    how which what""".split()
)

DETERMINERS = frozenset({"the", "a", "an", "its", "his", "her", "their", "our", "this", "that", "these", "those"})

PREPOSITIONS = frozenset("of in to for with by on at from into over against about between under after before".split())

SUBJECT_PRONOUNS = frozenset({"he", "she", "they", "we", "i", "it"})

# a repeat the language allows ("that that", "had had") is weighed, not deleted by rule
ALLOWED_REPEATS = frozenset({"that", "had", "is", "do", "very", "no", "so", "far", "bye", "yes", "ha", "knock"})

# ---- verbs

# verbs among the function words (`align`): outlets change tense and mood, a broken pipeline pastes pronouns
_AUXILIARIES = (
    "am is are was were be been being has have had do does did will would shall should can could may might must"
)
AUXILIARIES: frozenset[str] = frozenset([*_AUXILIARIES.split(), "must"])
# the number a verb gives its subject (`repair.text.entities`: whether a name is a group)
PLURAL_VERBS = frozenset("are were have".split())
SINGULAR_VERBS = frozenset("is was has".split())
# verbs a named subject is often followed by
SPEECH_VERBS = frozenset("said says told has have had is was were will would can could did does".split())

# words a pronoun before them must be the subject of: auxiliaries and the verbs of reporting
SUBJECT_VERBS = frozenset(
    "is are was were has have had will would can could should may might must do does did said says told".split()
)

# ---- pronouns and what may follow them (`propose` puts a pronoun back where a name was pasted)

# words closed-class enough that a pronoun before them is not a possessive
NOT_NOUNS = frozenset(
    """a an the this that these those it its he his him she her they their them we our us you your i my me
    but and or nor so for if as at by in on of to from with into over after before since though while when
    where whether which who whom whose what how because then there not no also""".split()
)

# words after which a clause (and so a subject) may begin
CLAUSE_OPENERS = frozenset(
    """. , ; : ! ? " “ ” ( — and but or so that if when while because though although since after before
    whether whoever whatever where which who until unless""".split()
)

# ---- names: words that look like names and are not, and the words inside names

# capitalized words that open sentences or quotes without naming anything (`repair.text.entities`)
FUNCTION_CAPS = frozenset(
    """a an the this that these those it its he his him she her they their them we our us you your i my me
    but and or nor so yet for if as at by in on of to from with without into onto over under after before
    since though although while when where whether which who whom whose what why how because unless until
    then there here now not no yes all any some each every both either neither many much more most other
    such is are was were be been being has have had do does did will would can could shall should may might
    must also just only even still instead yet meanwhile however mr mrs ms dr gen""".split()
)

# capitalized words that open sentences without naming anything, as the benchmark's damage picks the names
# it pastes (`repair.bench.corrupt`): FUNCTION_CAPS without titles and rarer words, with the days and months
NOT_NAMES = frozenset(
    """a an the this that these those it its he his him she her they their them we our us you your i my me
    but and or nor so yet for if as at by in on of to from with without into over under after before since
    though although while when where whether which who what why how because then there here now not no yes
    all any some each every both many more most other such is are was were be has have had do does did will
    would can could should may might must also just only even still instead however monday tuesday wednesday
    thursday friday saturday sunday january february march april may june july august september october
    november december""".split()
)

# the lower-case words inside a name ("Bashar al-Assad", "Osama bin Laden")
CONNECTORS = frozenset({"of", "al", "bin", "de", "von", "van", "der", "la", "le", "del"})

# the titles that go with a name wherever it stands, so a pasted name brings them along ("Mr Tillerson week's")
HONORIFICS = frozenset("mr mrs ms dr".split())

TITLES = HONORIFICS | frozenset(
    "president secretary minister prime chancellor king queen prince general gen senator sen rep "
    "spokesman spokeswoman ambassador director chief leader pope".split()
)

# titles that say a person is a woman, for the pronouns that point back to her
FEMALE_TITLES = frozenset("mrs ms queen princess duchess lady".split())

# ---- what a broken coreference step pastes (the benchmark's damage)

# the words a coreference step overwrites with the name they refer to
COREF_WORDS = frozenset("it its he his him she her they their them".split())

# the pasted function words seen in machine-damaged text: pronouns, determiners, wh-words
PASTED_FUNCTION_WORDS: tuple[str, ...] = (
    "he", "the", "its", "our", "his", "it", "their", "they", "how", "which", "that", "of", "to", "a", "But",
)  # fmt: skip
