"""The demo petition's title and summary in a few languages, so `make run` shows a petition in its reader's language."""

# The full text stays in English: the page marks it so (lang="en") in every other language.
DEMO_TRANSLATIONS = {
    "de": (
        "Biometrische Massenüberwachung verbieten",
        "Stoppt Gesichtserkennung und andere biometrische Überwachung in unseren öffentlichen Räumen.",
    ),
    "el": (
        "Απαγόρευση της βιομετρικής μαζικής παρακολούθησης",
        "Σταματήστε την αναγνώριση προσώπου και κάθε άλλη βιομετρική παρακολούθηση στους δημόσιους χώρους μας.",
    ),
    "es": (
        "Prohibir la vigilancia biométrica masiva",
        "Detengamos el reconocimiento facial y cualquier otra vigilancia biométrica en nuestros espacios públicos.",
    ),
    "fr": (
        "Interdire la surveillance biométrique de masse",
        "Arrêtons la reconnaissance faciale et toute autre surveillance biométrique dans nos espaces publics.",
    ),
    "it": (
        "Vietare la sorveglianza biometrica di massa",
        "Fermiamo il riconoscimento facciale e ogni altra sorveglianza biometrica nei nostri spazi pubblici.",
    ),
    "pl": (
        "Zakażmy biometrycznej inwigilacji masowej",
        "Powstrzymajmy rozpoznawanie twarzy i inną inwigilację biometryczną w naszych przestrzeniach publicznych.",
    ),
    "sr_Cyrl": (
        "Забранимо биометријски масовни надзор",
        "Зауставимо препознавање лица и сваки други биометријски надзор у нашим јавним просторима.",
    ),
    "sr_Latn": (
        "Zabranimo biometrijski masovni nadzor",
        "Zaustavimo prepoznavanje lica i svaki drugi biometrijski nadzor u našim javnim prostorima.",
    ),
}
