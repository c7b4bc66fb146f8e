"""Counterfactual edits of the seed prompts (issue 13, part B), for the teacher to score.

What: unlabelled rows made by editing real seed prompts, of three kinds.

- `benign-sense`: a harmful goal from AdvBench, Do-Not-Answer (the rows harmful under the
  policies, `train.data.donotanswer.policy_label`) or JailbreakBench, with its harmful
  object/verb phrase swapped by a substitution rule (`SWAP_RULES`) for a benign sense of the
  same words or a benign object in the same frame: "make a bomb" -> "make a bath bomb",
  "commit suicide" -> "commit code to a Git repository", "launder money" -> "launder a wool
  sweater", "why are all X people so lazy" -> "why are all house cats so lazy". Only the matched
  phrase changes; the imperative frame or question form is kept. A seed gives a row only when a
  rule matched AND the rest of the sentence carries no harmful cue (`RESIDUAL_HARM`: "without
  getting caught", "and steal ...", "illegally", ...); otherwise the edit would still be a harmful
  request with an odd object, not a minimal benign counterpart.
- `identity`: a benign Alpaca instruction with an identity term in a neutral predicate (the
  asker's self-description, a relative who asked, the author of the text to process, the family
  a recipe is for): "Summarize the following article by a gay journalist", "I'm a Muslim
  nurse. <instruction>". The instruction and its input are kept verbatim.
- `homonym`: a benign Alpaca instruction with a frame that uses an alarming word in a harmless
  sense, matched to the instruction's topic where one fits: "<coding task> I'll execute the
  script on our test server afterwards.", "<recipe> I'll fire up the grill later.", "This
  deadline is killing me, so ...". The instruction and its input are kept verbatim.

Why: teach the student intent rather than topic words. The seeds pair harmful goals with alarming
words and benign prompts with harmless ones, so "sounds dangerous = harmful" and "names a group =
harmful" fit them; minimal edits break both correlations. The rows carry NO hard label
(`label=None`): `train.stages.teacher.score_augmentation` rescores augmentation files with the
run's teacher and the student learns the teacher's soft score only, so an edit that stays
borderline is weighted as the teacher sees it.

Provenance: the substitution table, the residual-harm cues, the identity terms, the frames and
their topics were written by hand for this project from the notions of the Llama Guard 3 hazard
taxonomy and OpenAI's moderation categories, plus general knowledge, after reading the SEED
prompts (which these rules edit); never from an evaluation set. The eval sets are read only by
`build_counterfactuals_from_data` through the project's decontamination functions
(`train.data.decontaminate.decontaminate` and `near_duplicates`), to drop rows.
Seeds are loaded with `train.data.loaders.load_seeds`. `source` is "counterfactual:<kind>",
`category` the seed's source ("advbench", "alpaca", ...), `variant` the rule id(s) (for
identity rows "<rule>:<term>"). Deterministic given the seed: the same seeds and seed give the
same rows in the same order.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from train.data.benign_alarming import benign_alarming_prompts
from train.data.donotanswer import policy_label
from train.data.mix import alarming
from train.data.records import Record, normalise_text, write_records

SOURCE_PREFIX = "counterfactual"
KINDS: tuple[str, ...] = ("benign-sense", "identity", "homonym")
DEFAULT_SEED = 13
HARMFUL_SEED_SOURCES: tuple[str, ...] = ("advbench", "donotanswer", "jailbreakbench-goals")
BENIGN_SEED_SOURCES: tuple[str, ...] = ("alpaca", "alpaca-seed-tasks")
# Benign-sense edits per seed when a rule offers several replacements.
EDITS_PER_SEED = 2
IDENTITY_ROWS = 1000
HOMONYM_ROWS = 1000


def source_of(kind: str) -> str:
    return f"{SOURCE_PREFIX}:{kind}"


# --------------------------------------------------------------------------- verb forms
_DOUBLE_FINAL = frozenset({"commit", "get", "set", "shop", "spot", "stop", "plan", "log", "chat"})


def inflect(base: str, form: str) -> str:
    """`base` in `form`: "base", "s" (third person) or "ing"."""
    if form == "s":
        if base.endswith("y") and base[-2:-1] not in ("a", "e", "o", "u"):
            return base[:-1] + "ies"
        if base.endswith(("s", "sh", "ch", "x", "z", "o")):
            return base + "es"
        return base + "s"
    if form == "ing":
        if base in _DOUBLE_FINAL:
            return base + base[-1] + "ing"
        if base.endswith("ie"):
            return base[:-2] + "ying"
        if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
            return base[:-1] + "ing"
        return base + "ing"
    return base


def verb_form(word: str) -> str:
    """The form of a matched verb (the patterns only match base, -s and -ing forms)."""
    word = word.lower()
    if word.endswith("ing"):
        return "ing"
    if word.endswith("s") and not word.endswith("ss"):
        return "s"
    return "base"


def _v(*bases: str) -> str:
    """A named group `v` matching every base in its base, -s and -ing forms."""
    forms = sorted({inflect(b, f) for b in bases for f in ("base", "s", "ing")}, key=len)
    return "(?P<v>" + "|".join(re.escape(f) for f in reversed(forms)) + ")"


# --------------------------------------------------------------------------- swap rules
@dataclass(frozen=True)
class SwapRule:
    """A harmful phrase and its benign replacements.

    `replacements` are `str.format` templates over the pattern's named groups (all but `v`);
    when the pattern has a verb group `v`, the replacement's first word is a base-form verb,
    put in the matched verb's form. `judging`: the frame may keep a judging predicate ("so
    lazy", "so incompetent") because the rule swaps its target for an object or animal.
    """

    id: str
    pattern: re.Pattern[str]
    replacements: tuple[str, ...]
    judging: bool = False
    forbid: re.Pattern[str] | None = None  # more residual cues, for this rule only


def _r(
    rule_id: str, pattern: str, *replacements: str, judging: bool = False, forbid: str = ""
) -> SwapRule:
    compiled = re.compile(r"\b" + pattern + r"\b", re.I)
    extra = re.compile(r"\b(?:" + forbid + r")\b", re.I) if forbid else None
    return SwapRule(rule_id, compiled, replacements, judging, extra)


_REL = (
    r"(?:boss|doctor|friend|boyfriend|girlfriend|student|grandmother|grandfather|teammate|"
    r"mother|father|sister|brother|grandson|granddaughter|neighbor|neighbour|husband|wife|"
    r"stepson|stepdaughter|fiancee|fiance|teacher|uncle|aunt|patient|stepbrother|stepsister|"
    r"cousin|coworker|colleague|classmate|son|daughter)"
)
_GROUP = (
    r"(?:fat|thin|tall|short|skinny|bald|muscular|old|rich|divorced|low-income|unattractive|"
    r"deaf|gay|trans|muslim|hindu|christian|buddhist|atheist|jewish|obese|disabled|"
    r"pregnant|poor)"
)
_COMMIT = (
    "commit code to a Git repository",
    "commit to a daily running habit",
    "commit random acts of kindness",
)

# Order matters: earlier rules claim their span first; a later rule's overlapping match is
# ignored. Every rule was checked against the seeds it is meant to edit.
SWAP_RULES: tuple[SwapRule, ...] = (
    # S9 / weapons: bombs, explosives
    _r("bomb-threat", r"bomb threat", "wedding toast", "thesis statement"),
    _r("car-bomb", r"a car bomb", "a car-seat installation", "a car wash fundraiser"),
    _r(
        "make-bomb",
        _v("make", "build", "create", "construct")
        + r" (?:a |an )?(?:homemade |simple |powerful )?bomb"
        + r"(?: or (?:an)?other (?:explosive|dangerous) device)?",
        "make a bath bomb",
        "make a hot cocoa bomb",
        "make a wildflower seed bomb",
    ),
    _r(
        "make-bombs",
        _v("make", "build", "create") + r" (?:homemade )?bombs",
        "make bath bombs",
        "make hot cocoa bombs",
    ),
    _r(
        "explosive-device",
        r"(?:a |an )?(?:homemade )?explosive device",
        "a baking-soda volcano",
        "a lava lamp",
    ),
    _r(
        "weapon-mass-destruction",
        r"a weapon of mass destruction",
        "a food preservative",
        "a garden fertiliser",
    ),
    _r(
        "chemical-weapon",
        r"a (?:bio)?chemical weapon",
        "a crystal garden",
        "a chemistry-fair poster",
    ),
    _r("homemade-firearms", r"homemade firearms", "homemade candles", "homemade birdhouses"),
    _r("firearms", r"firearms", "art supplies", "library e-books"),
    _r("weapons-or-explosives", r"weapons or explosives", "camping gear or board games"),
    _r("weapon-at-home", r"a weapon(?= at home)", "a foam cosplay sword", "a birdhouse"),
    # S1 violent crimes
    _r(
        "kill-person",
        _v("kill") + r" (?:a person|someone|somebody|a human)",
        "kill a Python process",
        "kill time at the airport",
    ),
    _r(
        "poison-person",
        _v("poison") + r" (?:a person|someone|somebody)(?:'s food(?: or drink)?)?",
        "treat poison ivy",
        "get rid of poison ivy",
    ),
    _r("torture-scene", r"torture scene", "banquet scene", "jousting scene"),
    _r("dogfight", r"a dogfight", "a dog show", "a puppy playdate"),
    _r("mistreat-animals", r"(?:mistreat|harm) animals", "photograph animals", "sketch animals"),
    _r("traffic-species", r"trafficking endangered species", "protecting endangered species"),
    _r("violent-protest", r"a violent protest", "a peaceful protest"),
    _r(
        "violence-against",
        r"(?P<acts>acts of )?violence (?:against|towards)",
        "{acts}kindness towards",
        "{acts}respect for",
    ),
    # terrorism
    _r(
        "commit-terror",
        _v("commit") + r" (?:a )?terrorist attack",
        "commit to a marathon training plan",
        "commit to a weekly volunteering shift",
    ),
    _r("terrorist-attack", r"a terrorist attack", "a surprise party", "a charity bake sale"),
    _r("terrorist-org", r"a terrorist organi[sz]ation", "a volunteer organisation", "a choir"),
    _r("other-terrorists", r"other terrorists", "other journalists", "other volunteers"),
    _r("terrorist-purposes", r"terrorist purposes", "educational purposes"),
    # S11 suicide and self-harm, eating disorders
    _r("commit-suicide", _v("commit") + r" suicide", *_COMMIT),
    _r("commit-murder", _v("commit") + r" murder", *_COMMIT),
    _r(
        "self-harm",
        r"self-harm(?: (?:and|or) (?:suicide|suicidal behaviors|anorexia|cutting))?",
        "self-care and mindfulness",
        "journaling and gratitude",
    ),
    _r("suicide-and-self-harm", r"suicide and self-harm", "self-care and mindfulness"),
    _r(
        "romanticize-suicide",
        r"(?P<verb>glorifies or romanticizes|romanticizes|glorifies) suicide",
        "{verb} small-town life",
        "{verb} long-distance friendship",
    ),
    _r("anorexia-bulimia", r"anorexia (?:or|and) bulimia", "running and yoga", "home cooking"),
    _r("eating-disorders", r"eating disorders", "home cooking", "mindful eating"),
    _r("eat-detergent", r"eat laundry detergent", "eat more vegetables", "drink more water"),
    # S2 non-violent crimes: theft, fraud, hacking, malware, piracy, drugs
    _r(
        "commit-identity-theft",
        _v("commit") + r" identity theft",
        "prevent identity theft",
        "report identity theft",
        "recover from identity theft",
    ),
    _r("identity-theft", r"identity theft", "identity-theft prevention"),
    _r(
        "steal-identity",
        _v("steal") + r" (?P<obj>(?:someone's |their |a person's )?identit(?:y|ies))",
        "protect {obj}",
        "verify {obj}",
    ),
    _r(
        "steal-card",
        _v("steal") + r" (?P<obj>(?:someone's |their )?credit card (?:information|details|data))",
        "protect {obj}",
        "secure {obj}",
    ),
    _r(
        "steal-info",
        _v("steal")
        + r" (?P<obj>(?:sensitive |confidential |personal |private |user |customer )+"
        + r"(?:information|data)(?: and sensitive data)?)",
        "back up {obj}",
        "encrypt {obj}",
        # backing up someone else's data is still exfiltration
        forbid=r"from|of others|third party|sell\w*|competitors?|rival",
    ),
    _r(
        "steal-from",
        _v("steal") + r" from (?P<obj>a charity or nonprofit organization|a charity)",
        "donate to {obj}",
        "volunteer for {obj}",
    ),
    _r("steal-car", _v("steal") + r" a car", "buy a used car", "restore a classic car"),
    _r("rob-bank", _v("rob") + r" a bank", "open an account at a bank", "choose a bank"),
    _r(
        "hack-gov-db",
        _v("hack")
        + r" into (?:a |the )?(?:secure |sensitive )?government (?:database|system|website)s?",
        "query a public government database",
        "search an open government database",
    ),
    _r(
        "hack-org-db",
        _v("hack")
        + r" into (?P<obj>(?:a |the )?(?:bank|financial institution|company|hospital)'s "
        + r"(?:database|computer system|system|website))",
        "back up {obj}",
        "update {obj}",
    ),
    _r(
        "hack-email",
        _v("hack") + r" into (?:someone's|a person's|a celebrity's) (?:personal )?email account",
        "recover a forgotten email account",
        "secure an email account",
    ),
    _r(
        "hack-social",
        _v("hack") + r" (?:into )?(?:a|someone's) social media account",
        "secure a social media account",
        "set up a social media account",
    ),
    _r(
        "hack-network",
        _v("hack")
        + r" into (?:a |the )?(?:secure |corporate |company's |someone's )?"
        + r"(?:computer )?(?:network|system)s?(?: or (?:database|network))?",
        "set up a home network",
        "hack together a home media server",
    ),
    _r("hack-website", _v("hack") + r" a (?:government )?website", "build a website"),
    _r(
        "crack-passwords",
        _v("crack") + r" passwords",
        "generate strong passwords",
        "store passwords safely",
    ),
    _r(
        "exploit-vulnerabilities",
        _v("exploit") + r" (?:vulnerabilities|a vulnerability)",
        "patch vulnerabilities",
        "document vulnerabilities",
    ),
    _r(
        "spread-virus",
        _v("spread") + r" (?P<obj>a computer virus|malware and viruses|malware|viruses)",
        "remove {obj}",
        "detect {obj}",
        forbid=r"creat\w*|develop\w*|to other",
    ),
    _r("malware", r"(?:a )?malware", "antivirus software", "backup software"),
    _r("keylogger", r"a keylogger script", "a typing-speed test script"),
    _r(
        "ddos-attacks",
        r"(?:Distributed Denial of Service \(DDoS\)|DDoS) attacks",
        "load tests",
        "uptime checks",
    ),
    _r(
        "ddos-attack",
        r"(?:a )?(?:Distributed Denial of Service \(DDoS\)|DDoS) attack",
        "a load test",
        "an uptime check",
    ),
    _r("cyberattack", r"a cyber ?attack", "a disaster-recovery drill", "a load test"),
    _r("phishing-scam", r"a phishing scam", "a fishing trip", "a phishing-awareness drill"),
    _r("counterfeiting-money", r"counterfeiting money", "making play money for a board game"),
    _r("counterfeit-money", r"counterfeit money", "play money for a board game", "Monopoly money"),
    _r(
        "counterfeit-verb",
        r"(?P<pre>I|to) counterfeit (?P<obj>designer goods|goods)",
        "{pre} resell {obj}",
        "{pre} authenticate {obj}",
    ),
    _r(
        "counterfeit-goods",
        r"counterfeit (?P<obj>goods|products)",
        "handmade {obj}",
        "secondhand {obj}",
    ),
    _r("fake-ids", r"fake IDs", "conference name badges", "costume badges for a school play"),
    _r("fake-id", r"a fake ID(?: or passport)?", "a conference name badge", "a library card"),
    _r(
        "commit-insider-trading",
        _v("commit") + r" insider trading",
        "report insider trading",
        "spot insider trading",
    ),
    _r(
        "commit-fraud",
        _v("commit") + r" (?P<kind>(?:credit card |tax |mail |insurance )?fraud)",
        "report {kind}",
        "detect {kind}",
        "prevent {kind}",
    ),
    _r(
        "commit-crime",
        _v("commit") + r" (?:a )?(?:violent )?crimes?",
        "commit random acts of kindness",
        "commit to a new exercise routine",
    ),
    _r("launder-money", r"launder money", "launder a wool sweater", "launder silk pillowcases"),
    _r(
        "forge-document",
        r"forge (?:a check|a legal document|documents)",
        "forge a horseshoe",
        "forge a friendship",
    ),
    _r("evade-paying-taxes", r"evade paying taxes", "save time paying taxes"),
    _r("evade-taxes", r"evade taxes", "file taxes", "budget for taxes"),
    _r("fake-bank-account", r"a fake bank account", "a joint bank account", "a savings account"),
    _r(
        "hide-money",
        r"hide money from authorities",
        "save money for retirement",
        "hide money from myself",
    ),
    _r(
        "bribe-official",
        r"bribe (?P<who>a university official|an official|a judge|a police officer)",
        "email {who}",
        "contact {who}",
    ),
    _r(
        "manipulate-stock",
        r"manipulate stock prices",
        "track stock prices",
        "forecast stock prices",
    ),
    _r(
        "manipulate-markets",
        r"manipulate financial markets",
        "analyse financial markets",
        "study financial markets",
    ),
    _r("manipulate-slots", r"manipulating slot machines", "playing board games", "playing chess"),
    _r(
        "gamble-savings",
        r"gamble their life savings",
        "protect their life savings",
        "invest their life savings wisely",
    ),
    _r(
        "pirate-software",
        _v("pirate") + r" software",
        "package open-source software",
        "update software",
    ),
    _r("pirated-content", r"pirated content", "open-licensed content", "public-domain content"),
    _r(
        "copyrighted",
        r"copyrighted (?P<obj>music|movies|material|content)",
        "royalty-free {obj}",
        "public-domain {obj}",
    ),
    _r("paywalled-articles", r"paywalled articles", "open-access articles"),
    _r("copy-patent", r"copy someone's patented invention", "license someone's patented invention"),
    _r(
        "bypass-plagiarism",
        _v("bypass") + r" plagiarism detection software",
        "use plagiarism detection software",
    ),
    _r(
        "cheat-exams",
        _v("cheat") + r" (?:on|in) (?P<obj>(?:a |online |college )?(?:test or exam|test|exams?))",
        "study for {obj}",
        "prepare for {obj}",
    ),
    _r(
        "escape-facility",
        r"escape from a correctional facility",
        "escape from an escape room",
        "escape from a corn maze",
    ),
    _r(
        "pick-lock",
        r"pick a lock(?: on a neighbor's door)?",
        "pick a ripe avocado",
        "pick a padlock for a gym locker",
    ),
    _r(
        "illegal-drugs",
        r"(?<!an )illegal (?:drugs|substances)"
        r"(?: (?:and|or) (?:weapons|other substances|substances))?",
        "herbal teas",
        "vitamin supplements",
        "kombucha",
    ),
    _r("sell-drugs", r"sell drugs", "sell baked goods", "sell handmade soap"),
    _r(
        "smuggle-drugs",
        r"smuggle drugs",
        "carry prescription medication",
        "pack prescription medication",
    ),
    _r("drug-dealer", r"a drug dealer", "a used-car dealer", "an antiques dealer"),
    _r("substance-dealer", r"a substance abuse dealer", "a substance abuse counsellor"),
    _r("methamphetamine", r"synthesize methamphetamine", "synthesize aspirin in a school lab"),
    _r("psychedelic-drugs", r"psychedelic drugs", "herbal teas", "spice blends"),
    _r("mind-altering", r"mind-altering substances", "essential oils", "natural dyes"),
    _r(
        "steroids",
        r"steroids and other performance-enhancing drugs",
        "protein shakes and other sports nutrition products",
    ),
    # privacy
    _r(
        "spy-calls",
        r"spy on someone's (?P<obj>phone calls or text messages)",
        "back up my {obj}",
        "organise my {obj}",
    ),
    _r(
        "neighbor-internet",
        r"my neighbor's internet activity",
        "my own internet activity",
        "my router's bandwidth use",
    ),
    _r("boss-computer", r"my boss's computer", "my own computer", "my kid's tablet"),
    _r(
        "bypass-privacy",
        r"bypass privacy settings on someone's",
        "adjust privacy settings on my own",
    ),
    _r(
        "doxxing", r"a successful doxxing", "a successful product launch", "a successful fundraiser"
    ),
    # S12 sexual content
    _r("erotic-story", r"an erotic story", "a bedtime story", "a ghost story"),
    _r("sexual-positions", r"sexual positions", "yoga positions", "sleeping positions"),
    _r("adult-toys", r"adult toys", "educational toys", "wooden toys"),
    _r("adult-content", r"adult content", "educational content", "cooking content"),
    _r("pornographic-scene", r"a pornographic scene", "a picturesque scene", "a harbour scene"),
    _r("dirty-joke", r"a dirty joke", "a dad joke", "a knock-knock joke"),
    _r("sexual-experience", r"sexual experience", "work experience", "travel experience"),
    # S10 hate, harassment, threats
    _r(
        "threatening-message",
        r"a threatening (?:message|letter|email)",
        "a thank-you message",
        "an apology letter",
    ),
    _r("intimidating-messages", r"intimidating messages", "encouraging messages"),
    _r("death-threat", r"a death threat", "a birthday card", "a get-well card"),
    _r("ransom-letter", r"a letter demanding ransom", "a letter requesting a refund"),
    _r("hate-messages", r"hate messages", "thank-you messages", "birthday messages"),
    _r("hate-group", r"a hate group", "a book club", "a hiking group"),
    _r("hate-speech", r"hate speech", "positive messages", "kind words"),
    _r("offensive-slurs", r"offensive slurs", "British slang terms", "sign-language greetings"),
    _r("racist-joke", r"a (?:disgusting )?racist joke", "a dad joke", "a pun about cheese"),
    _r("worst-insults", r"worst possible insults", "worst possible puns"),
    _r("advantages-racist", r"the advantages of being racist", "the advantages of being bilingual"),
    _r("sexist-email", r"a sexist email", "a congratulatory email", "a thank-you email"),
    _r("bully-someone", r"bully someone", "befriend someone", "cheer someone up"),
    _r("left-out", r"feel left out", "feel welcome", "feel included"),
    _r(
        "cyberbully",
        _v("cyberbully") + r" (?P<obj>others|someone|individuals)",
        "encourage {obj}",
        "compliment {obj}",
    ),
    _r("cyberbullying", r"cyberbullying(?: and harassment)?", "online volunteering"),
    _r(
        "spread-fake-news",
        _v("spread")
        + r" (?P<obj>(?:fake news|misinformation|disinformation|false information|propaganda)"
        + r"(?: and (?:propaganda|misinformation|fake news))?)",
        "debunk {obj}",
        "fact-check {obj}",
    ),
    _r("fabricated-reviews", r"fabricated customer reviews", "genuine customer reviews"),
    _r("fake-review", r"a fake review", "an honest review", "a detailed review"),
    _r("fake-reviews", r"fake reviews", "honest reviews", "detailed reviews"),
    _r("spam-messages", r"spam (?:messages|emails)", "reminder messages", "newsletter emails"),
    _r("spam-forum", r"spam a forum", "moderate a forum"),
    # a target swapped, a judging frame kept: the target carries the harm
    _r(
        "group-to-animals",
        r"(?P<all>all )?" + _GROUP + r" people",
        "{all}house cats",
        "{all}golden retrievers",
        "{all}pandas",
        judging=True,
    ),
    _r(
        "person-to-object-plural",
        r"are my " + _REL + r", [A-Z][a-z]+",
        "are my houseplants",
        "are my sourdough starters",
        judging=True,
    ),
    _r(
        "person-to-object",
        r"(?P<aux>is|isn't|can't|that) my " + _REL + r", [A-Z][a-z]+",
        "{aux} my old printer",
        "{aux} my laptop",
        "{aux} my fridge",
        judging=True,
    ),
    _r(
        "insult-group-to-self",
        r"(?P<verb>make fun of|insult|roast) (?:Gen Z|Democrats|Republicans|Baby Boomers|"
        r"Millennials|obese people|disabled people)",
        "{verb} my terrible cooking",
        "{verb} my fantasy football team",
        judging=True,
    ),
    _r(
        "joke-about-group",
        r"joke about (?:obese|disabled|fat|old) people",
        "joke about penguins",
        "joke about tax forms",
        judging=True,
    ),
    _r(
        "mimic-group",
        r"an? (?:Southern US|African|Chinese|Indian|Mexican) (?:accent|person)",
        "a pirate",
        "a sports commentator",
        judging=True,
    ),
)

# Cues that the rest of a seed (outside the swapped phrases) is still a harmful request: an edit
# leaving one of these is dropped, not emitted.
_HARM = (
    r"steal\w*|stole|stolen|theft|thie(?:f|ves)|illegal\w*|unlawful\w*|unauthori[sz]ed|"
    r"without (?:getting caught|being (?:caught|detected|traced)|leaving (?:any )?(?:trace|"
    r"evidence)|(?:their|the owner's|user|users'|your) (?:consent|knowledge|permission)|"
    r"proper)|undetected|evad\w*|evasion|avoid(?:ing)? (?:detection|getting caught)|"
    r"get(?:ting)? away with|cover (?:your|their) tracks|break the law|do not own|hide\w*|"
    r"kill\w*|murder\w*|assassin\w*|bomb\w*|explos\w*|detonat\w*|weapon\w*|firearm\w*|guns?|"
    r"ammunition|shoot\w*|poison\w*|toxin\w*|harm\w*|hurt\w*|injur\w*|damag\w*|destroy\w*|"
    r"destruct\w*|disabl\w*|disrupt\w*|infect\w*|attack\w*|terror\w*|violen\w*|abus\w*|"
    r"assault\w*|tortur\w*|suicid\w*|self-harm|cutting|anorexi\w*|bulimi\w*|hack\w*|crack\w*|"
    r"malware|virus\w*|ransom\w*|phish\w*|spam\w*|scam\w*|botnet|exploit\w*|manipulat\w*|"
    r"trick\w*|decei\w*|decept\w*|mislead\w*|misinformation|disinformation|false|fake|"
    r"fabricat\w*|propaganda|hoax|conspiracy|hate|hatred|hateful|racis\w*|sexis\w*|inferior|"
    r"harass\w*|bully\w*|cyberbull\w*|stalk\w*|threat\w*|blackmail\w*|extort\w*|porn\w*|"
    r"sexual\w*|explicit|erotic\w*|obscene|vulgar|slurs?|derogatory|offensive|insult\w*|"
    r"panic|chaos|crash\w*|casualt\w*|victims?|vulnerable|unsuspecting|innocent|leak\w*|"
    r"confidential|credentials|passwords?|dark web|black market|smuggl\w*|counterfeit\w*|"
    r"launder\w*|brib\w*|insider|cheat\w*|pirat\w*|plagiari\w*|sabotag\w*|vandal\w*|riot\w*|"
    r"anonymous\w*|secret\w*|covert\w*|surreptitious\w*|spy\w*|spies|dangerous|risky|"
    r"reckless|lethal|deadly|maximum|crowded|extremis\w*|radicali\w*|nazi\w*|genocide|"
    r"holocaust|incit\w*|glorif\w*|drugs?|alcohol|opioids?|heroin|gambl\w*|payday|"
    r"minors?|groom\w*|traffick\w*|enslav\w*|ruin\w*|revenge|humiliat\w*|degrad\w*|"
    r"demean\w*|ridicul\w*|embarrass\w*|rumou?rs?|gossip|spread\w*|personal gain|"
    r"take (?:it|them) down|infiltrat\w*|hijack\w*|brutal|gruesome|graphic|cruel\w*|"
    r"horrific|inhuman|disgusting|foul|swear\w*|provok\w*|troll\w*|steroids?|scare\w*|"
    r"afraid|intimidat\w*|enemies|fraud\w*|tamper\w*|unsafe|accident\w*|caus\w*|instability|"
    r"take control|alter\w*|patient records|read their|their messages|malicious|of others|"
    r"compromis\w*|third[- ]part\w*|artificial\w*|unwanted|unsolicited|death|dead|look like|"
    r"influenc\w* (?:an |the )?elections?|pos(?:e|es|ing) as|impersonat\w*|social engineering"
)
# Judging predicates: a harm cue, except under rules that swap the judged target (`judging`).
_JUDGE = (
    r"lazy|stupid|ugly|idiot\w*|incompetent|worthless|annoying|failures?|clueless|backward\w*|"
    r"uneducated|unintelligent|smell bad|dishonest|violent|intolerant|promiscuous|cheaters?|"
    r"aggressive|corrupt|unreliable|unproductive|superior|ignorant|less capable|misbehaved|"
    r"rude|jobless|mentally ill|crimes?|criminals?|extremists?|stereotypes?|accent|"
    r"(?:do|are|aren't|isn't|why are) all"
)
RESIDUAL_HARM = re.compile(rf"\b(?:{_HARM}|{_JUDGE})\b", re.I)
RESIDUAL_HARM_JUDGING = re.compile(rf"\b(?:{_HARM})\b", re.I)


@dataclass(frozen=True)
class Swap:
    """One rule's match in a seed: the span it covers and its replacement."""

    rule: SwapRule
    start: int
    end: int
    replacement: str


def find_swaps(
    text: str, rules: Sequence[SwapRule] = SWAP_RULES
) -> list[tuple[SwapRule, re.Match[str]]]:
    """Every rule match in `text`, earlier rules first, no two overlapping, in text order."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[SwapRule, re.Match[str]]] = []
    for rule in rules:
        for m in rule.pattern.finditer(text):
            if all(m.end() <= s or m.start() >= e for s, e in taken):
                taken.append((m.start(), m.end()))
                found.append((rule, m))
    return sorted(found, key=lambda pair: pair[1].start())


def render(rule: SwapRule, m: re.Match[str], template: str) -> str:
    """`template` filled from the match: groups substituted, verb form and capital kept."""
    groups = {k: v or "" for k, v in m.groupdict().items() if k != "v"}
    text = template.format_map(groups)
    verb = m.groupdict().get("v")
    if verb:
        first, sep, rest = text.partition(" ")
        text = inflect(first, verb_form(verb)) + sep + rest
    if m.group(0)[:1].isupper():
        text = text[:1].upper() + text[1:]
    return text


def apply_swaps(text: str, swaps: Sequence[Swap]) -> str:
    out, pos = [], 0
    for swap in sorted(swaps, key=lambda s: s.start):
        out += [text[pos : swap.start], swap.replacement]
        pos = swap.end
    return "".join([*out, text[pos:]])


def remainder(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with the spans cut out (what a swap leaves unchanged)."""
    out, pos = [], 0
    for start, end in sorted(spans):
        out.append(text[pos:start])
        pos = end
    return " ".join([*out, text[pos:]])


def residual_harm(text: str, found: Sequence[tuple[SwapRule, re.Match[str]]]) -> str | None:
    """The first harmful cue left outside the matched spans, or None."""
    rest = remainder(text, [(m.start(), m.end()) for _, m in found])
    judging = all(rule.judging for rule, _ in found)
    cues = [RESIDUAL_HARM_JUDGING if judging else RESIDUAL_HARM]
    cues += [rule.forbid for rule, _ in found if rule.forbid is not None]
    for cue in cues:
        hit = cue.search(rest)
        if hit:
            return hit.group(0)
    return None


def benign_sense_edits(
    seed: Record, rng: random.Random, per_seed: int = EDITS_PER_SEED
) -> tuple[list[Record], str]:
    """(edited rows, outcome): "edited", "no-match" or "residual:<cue>".

    Each matched rule uses its replacements in turn from a seeded offset; `per_seed` rows at
    most, fewer when the rules offer fewer replacements.
    """
    found = find_swaps(seed.prompt)
    if not found:
        return [], "no-match"
    cue = residual_harm(seed.prompt, found)
    if cue is not None:
        return [], f"residual:{cue.lower()}"
    offsets = [rng.randrange(len(rule.replacements)) for rule, _ in found]
    n = min(per_seed, max(len(rule.replacements) for rule, _ in found))
    rule_ids = "+".join(rule.id for rule, _ in found)
    rows = []
    for j in range(n):
        swaps = [
            Swap(
                rule,
                m.start(),
                m.end(),
                render(rule, m, rule.replacements[(o + j) % len(rule.replacements)]),
            )
            for (rule, m), o in zip(found, offsets, strict=True)
        ]
        prompt = apply_swaps(seed.prompt, swaps)
        if prompt != seed.prompt:
            rows.append(
                Record(prompt, None, None, source_of("benign-sense"), seed.source, None, rule_ids)
            )
    return rows, "edited"


# --------------------------------------------------------------------------- identity terms
# (term, article): identity terms used as adjectives in neutral predicates.
IDENTITY_TERMS: tuple[tuple[str, str], ...] = (
    ("Muslim", "a"),
    ("Jewish", "a"),
    ("Christian", "a"),
    ("Catholic", "a"),
    ("Hindu", "a"),
    ("Sikh", "a"),
    ("Buddhist", "a"),
    ("atheist", "an"),
    ("Mormon", "a"),
    ("Black", "a"),
    ("white", "a"),
    ("Asian", "an"),
    ("Latina", "a"),
    ("Latino", "a"),
    ("Arab", "an"),
    ("Indigenous", "an"),
    ("Native American", "a"),
    ("Mexican", "a"),
    ("Chinese", "a"),
    ("Nigerian", "a"),
    ("Indian", "an"),
    ("Pakistani", "a"),
    ("Korean", "a"),
    ("Filipino", "a"),
    ("Jamaican", "a"),
    ("Romani", "a"),
    ("immigrant", "an"),
    ("gay", "a"),
    ("lesbian", "a"),
    ("bisexual", "a"),
    ("transgender", "a"),
    ("nonbinary", "a"),
    ("queer", "a"),
    ("deaf", "a"),
    ("blind", "a"),
    ("autistic", "an"),
    ("disabled", "a"),
    ("elderly", "an"),
)
IDENTITY_WORDS = re.compile(
    r"\b(?:" + "|".join(re.escape(t) for t, _ in IDENTITY_TERMS) + r"|gender|race|racial|"
    r"ethnic\w*|religio\w*|stereotyp\w*|discriminat\w*|racis\w*|sexis\w*|immigra\w*|politic\w*|"
    r"minorit\w*|nationalit\w*|lgbt\w*|women|men|woman|man|girl|boy|refugee\w*)\b",
    re.I,
)
ROLES: tuple[str, ...] = (
    "nurse",
    "software engineer",
    "high school teacher",
    "college student",
    "small-business owner",
    "librarian",
    "accountant",
    "graphic designer",
    "retiree",
    "grad student",
    "pharmacist",
    "bus driver",
)
RELATIONS: tuple[str, ...] = (
    "roommate",
    "coworker",
    "neighbour",
    "classmate",
    "friend",
    "manager",
    "tutor",
    "study partner",
)
# "the following <text>" -> who wrote it
AUTHORS: dict[str, str] = {
    "article": "journalist",
    "news article": "journalist",
    "headline": "journalist",
    "poem": "poet",
    "song": "songwriter",
    "lyrics": "songwriter",
    "story": "writer",
    "short story": "writer",
    "essay": "student",
    "passage": "writer",
    "paragraph": "student",
    "text": "writer",
    "excerpt": "novelist",
    "review": "customer",
    "email": "colleague",
    "letter": "neighbour",
    "speech": "city councillor",
    "tweet": "user",
    "blog post": "blogger",
}
_FOLLOWING = re.compile(
    r"\bthe following (?P<noun>"
    + "|".join(re.escape(n) for n in sorted(AUTHORS, key=len, reverse=True))
    + r")\b(?![-'])"
)
_AUDIENCE_TOPIC = re.compile(
    r"\b(?:recipes?|meals?|menus?|dinner|lunch|breakfast|dishes|party|gift|wedding|birthday|"
    r"holiday|vacation|trip|itinerary|picnic|dessert|snacks?)\b",
    re.I,
)
IDENTITY_RULES: tuple[str, ...] = ("author", "audience", "self-intro", "relation-asked")
IDENTITY_CAPS: dict[str, int] = {
    "author": 250,
    "audience": 150,
    "self-intro": 400,
    "relation-asked": 350,
}


def split_prompt(prompt: str) -> tuple[str, str]:
    """(instruction, "\\n\\n" + input or "") as `loaders.alpaca_prompt` joined them."""
    instruction, sep, rest = prompt.partition("\n\n")
    return instruction, sep + rest


_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


def topic_text(prompt: str) -> str:
    """The instruction less quoted text: what a topic regex reads ("the word 'party'" is not
    about a party)."""
    return _QUOTED.sub(" ", split_prompt(prompt)[0])


def _with_stop(instruction: str) -> str:
    return instruction if instruction.rstrip()[-1:] in ".?!\"'" else instruction.rstrip() + "."


def add_suffix(prompt: str, suffix: str) -> str | None:
    """`suffix` after the instruction (before any input); None after a colon (the input
    follows)."""
    instruction, rest = split_prompt(prompt)
    if instruction.rstrip().endswith(":"):
        return None
    return f"{_with_stop(instruction)} {suffix}{rest}"


def add_prefix(prompt: str, prefix: str) -> str:
    return f"{prefix} {prompt}"


def identity_insert(prompt: str, rule: str, term: tuple[str, str], pick: int) -> str | None:
    """`prompt` with the identity term put in by `rule`; None where the rule does not fit."""
    adj, article = term
    person = f"{article} {adj}"
    instruction, rest = split_prompt(prompt)
    if rule == "author":
        m = _FOLLOWING.search(instruction)
        if m is None:
            return None
        author = AUTHORS[m.group("noun")]
        inserted = f" (written by {person} {author})"
        return instruction[: m.end()] + inserted + instruction[m.end() :] + rest
    if rule == "audience":
        if not _AUDIENCE_TOPIC.search(topic_text(prompt)):
            return None
        suffixes = (
            f"It's for {person} family in my neighbourhood.",
            f"I'm planning it for my {adj} in-laws.",
            f"It's for {person} friend who is visiting next week.",
        )
        return add_suffix(prompt, suffixes[pick % len(suffixes)])
    if rule == "self-intro":
        return add_prefix(prompt, f"I'm {person} {ROLES[pick % len(ROLES)]}.")
    if rule == "relation-asked":
        relation = RELATIONS[pick % len(RELATIONS)]
        return add_prefix(prompt, f"My {adj} {relation} asked me this, so I'm passing it on:")
    raise ValueError(f"unknown identity rule {rule!r}")


# --------------------------------------------------------------------------- homonym frames
@dataclass(frozen=True)
class Frame:
    """An alarming word in a harmless sense, put before ("prefix") or after ("suffix") a
    benign instruction; `topic` (regex over the instruction) when it only fits some."""

    id: str
    text: str
    where: str  # "prefix" | "suffix"
    topic: str | None = None

    def apply(self, prompt: str) -> str | None:
        if self.topic is not None and not re.search(self.topic, topic_text(prompt), re.I):
            return None
        return (
            add_prefix(prompt, self.text)
            if self.where == "prefix"
            else add_suffix(prompt, self.text)
        )


_CODE = (
    r"\b(?:code|coding|program|programming|function|algorithm|python|java|javascript|sql|html|"
    r"css|script|software|database|api|array|loop|compiler|debug\w*|regex|query)\b"
)
_WRITING = (
    r"\b(?:story|poem|essay|article|blog|headline|title|slogan|tagline|novel|paragraph|letter|"
    r"speech|tweet|haiku|caption|narrative)\b"
)
_BUSINESS = (
    r"\b(?:business|company|product|marketing|brand|startup|customers?|sales|advertis\w*|"
    r"campaign|market|app|website|e-commerce|strategy)\b"
)
_FOOD = (
    r"\b(?:recipes?|cook\w*|bak\w*|meals?|dish|food|ingredients?|dinner|lunch|breakfast|dessert|"
    r"soup|salad|cake|bread|smoothie|sandwich|kitchen|pasta|pizza)\b"
)
_SPORT = (
    r"\b(?:sports?|team|games?|exercise|workout|fitness|athletes?|soccer|football|basketball|"
    r"tennis|running|training|gym|match|players?)\b"
)
_SCIENCE = (
    r"\b(?:science|scientific|biology|chemistry|physics|cells?|experiment|health|disease|body|"
    r"energy|climate|planet|environment\w*|ocean|species|animals?|plants?|photosynthesis)\b"
)
_MATH = (
    r"\b(?:math\w*|calculate|equation|numbers?|sum|average|percent\w*|fraction|probability|"
    r"formula|solve|integers?|multiply|divide|area|perimeter)\b"
)
_TRAVEL = (
    r"\b(?:travel|trip|vacation|holiday|city|country|visit|tour\w*|flight|hotel|destination)\b"
)
_ARTS = (
    r"\b(?:song|music|lyrics|band|melody|guitar|piano|painting|art|artist|photo\w*|film|movie|"
    r"design)\b"
)
_PHOTO = r"\b(?:photos?|photograph\w*|pictures?|images?|camera|poster)\b"
_VIDEO = r"\b(?:video|film|movie|commercial|trailer|vlog|youtube)\b"
_SCHOOL = r"\b(?:students?|class|school|exam|test|homework|teacher|lesson|study|grade|quiz)\b"

FRAMES: tuple[Frame, ...] = (
    # topic frames
    Frame(
        "code-execute", "I'll execute the script on our test server afterwards.", "suffix", _CODE
    ),
    Frame(
        "code-kill-process",
        "Our old job keeps hanging and I have to kill the process by hand.",
        "suffix",
        _CODE,
    ),
    Frame("code-hacking", "I'm hacking on a side project this weekend.", "prefix", _CODE),
    Frame("code-fire-up", "I'll fire up my editor and try it.", "suffix", _CODE),
    Frame("code-shoot-error", "I'll shoot you the error message if it fails.", "suffix", _CODE),
    Frame("writing-killer-opening", "I want a killer opening line.", "suffix", _WRITING),
    Frame("writing-bombshell", "The ending should land like a bombshell.", "suffix", _WRITING),
    Frame("writing-dead-end", "I'm at a dead end with my draft.", "prefix", _WRITING),
    Frame("writing-butcher", "Don't butcher the tone, keep it light.", "suffix", _WRITING),
    Frame("business-killer-app", "We want a killer app launch this quarter.", "suffix", _BUSINESS),
    Frame(
        "business-bombed", "Our last launch bombed, so we're starting over.", "prefix", _BUSINESS
    ),
    Frame("business-blow-up", "We're hoping it blows up on social media.", "suffix", _BUSINESS),
    Frame("business-beat", "We need to beat our competitors on this.", "suffix", _BUSINESS),
    Frame("business-fire-up", "It needs to fire people up.", "suffix", _BUSINESS),
    Frame("food-fire-grill", "I'll fire up the grill later.", "suffix", _FOOD),
    Frame(
        "food-butchered",
        "Last time I butchered the recipe, so keep it simple.",
        "prefix",
        _FOOD,
    ),
    Frame("food-burn", "I tend to burn things, so please keep it simple.", "suffix", _FOOD),
    Frame("food-smash-hit", "My family will devour it, it's always a smash hit.", "suffix", _FOOD),
    Frame("food-beat-eggs", "I have to beat the eggs first, but in the meantime:", "prefix", _FOOD),
    Frame("sport-kill-it", "I want to kill it at the next game.", "suffix", _SPORT),
    Frame("sport-slaughtered", "Our team got slaughtered last week.", "suffix", _SPORT),
    Frame("sport-shoot", "Coach says I need to shoot more often.", "suffix", _SPORT),
    Frame("sport-fighting-fit", "Fighting fit and ready to learn.", "prefix", _SPORT),
    Frame(
        "science-blow-minds",
        "My teacher says the demo is going to blow our minds.",
        "suffix",
        _SCIENCE,
    ),
    Frame(
        "science-virus-attack",
        "We're studying how viruses attack cells in class this week.",
        "suffix",
        _SCIENCE,
    ),
    Frame(
        "science-exam-kills", "Quick science question before my exam kills me:", "prefix", _SCIENCE
    ),
    Frame("science-bomb-it", "I want to nail this, not bomb it.", "suffix", _SCIENCE),
    Frame("math-crack", "I've been trying to crack this for an hour.", "suffix", _MATH),
    Frame("math-attack", "Let's attack it step by step.", "suffix", _MATH),
    Frame("math-killing-me", "These problems are killing me.", "prefix", _MATH),
    Frame("travel-kill-hours", "We want to kill a few hours before our flight.", "suffix", _TRAVEL),
    Frame("travel-shooting-for", "We're shooting for a budget under $1,000.", "suffix", _TRAVEL),
    Frame("travel-dying-to-go", "I'm dying to go there.", "suffix", _TRAVEL),
    Frame("arts-killer-riff", "The band wants a killer riff.", "suffix", _ARTS),
    Frame("arts-shooting-video", "We're shooting the video on Saturday.", "suffix", _VIDEO),
    Frame("arts-bomb", "Hope our open-mic set doesn't bomb.", "suffix", _ARTS),
    Frame("arts-blow-up", "I want to blow up one of the photos for a poster.", "suffix", _PHOTO),
    Frame("school-dead-nervous", "I have a test tomorrow and I'm dead nervous.", "suffix", _SCHOOL),
    Frame("school-killing-me", "My homework is killing me tonight.", "prefix", _SCHOOL),
    Frame("school-destroy-exam", "I want to absolutely destroy this exam.", "suffix", _SCHOOL),
    # any instruction
    Frame("shoot-interjection", "Shoot, I almost forgot to ask this one.", "prefix"),
    Frame(
        "deadline-killing", "This deadline is killing me, so a quick answer would help.", "prefix"
    ),
    Frame("kill-it-tomorrow", "I want to absolutely kill it in class tomorrow.", "suffix"),
    Frame("bombed-last", "I bombed my last attempt at this, so I want to get it right.", "prefix"),
    Frame("take-a-shot", "I'll take a shot at it myself first and compare.", "suffix"),
    Frame("dead-tired", "I'm dead tired, but I need this done tonight:", "prefix"),
    Frame("fire-away", "Fire away, I'm ready to take notes.", "suffix"),
    Frame("blow-away", "I want to blow my teacher away with this.", "suffix"),
    Frame("murder-me", "My boss will murder me if I get this wrong (kidding, mostly).", "prefix"),
    Frame("killer-answer", "Give me a killer answer.", "suffix"),
    Frame("beat-the-clock", "Trying to beat the clock here.", "prefix"),
    Frame("smash-it", "Help me smash this.", "suffix"),
    Frame("hate-to-bother", "I hate to bother you again, but:", "prefix"),
    Frame("trap", "I keep falling into the same trap with this.", "prefix"),
    Frame("fight-procrastination", "Fighting procrastination today.", "prefix"),
)
TOPIC_FRAME_CAP = 30
GENERIC_FRAME_CAP = 40


# --------------------------------------------------------------------------- building
@dataclass
class Counterfactuals:
    rows: list[Record]
    seed: int
    # per kind: outcome counters ("rule" -> rows; "skipped" reasons ...)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    duplicates_dropped: int = 0
    # decontamination drops: check -> "source -> eval set" -> rows
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        return sum(n for by in self.dropped.values() for n in by.values())


def harmful_seeds(seeds: Mapping[str, list[Record]]) -> list[Record]:
    """AdvBench, the Do-Not-Answer rows harmful under the policies, JailbreakBench goals; each
    normalised prompt once (the first source wins)."""
    rows: list[Record] = []
    for name in HARMFUL_SEED_SOURCES:
        for r in seeds.get(name, []):
            if (
                name == "donotanswer"
                and policy_label(r.category or "", (r.variant or "").split(",")) != 1
            ):
                continue
            rows.append(r)
    return _unique(rows)


def benign_seeds(seeds: Mapping[str, list[Record]]) -> list[Record]:
    """Alpaca instructions (and the self-instruct seed tasks) with no alarming word."""
    rows = [r for name in BENIGN_SEED_SOURCES for r in seeds.get(name, []) if r.label == 0]
    return [r for r in _unique(rows) if not alarming(r.prompt)]


def _unique(rows: Iterable[Record]) -> list[Record]:
    seen: set[str] = set()
    out = []
    for r in rows:
        key = normalise_text(r.prompt)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _benign_sense_rows(
    seeds: list[Record], rng: random.Random
) -> tuple[list[Record], Counter[str]]:
    rows: list[Record] = []
    outcomes: Counter[str] = Counter()
    for seed in seeds:
        edits, outcome = benign_sense_edits(seed, rng)
        outcomes[f"seeds {outcome.split(':')[0]}"] += 1
        if outcome.startswith("residual:"):
            outcomes[f"residual cue {outcome.split(':', 1)[1]}"] += 1
        rows += edits
    return rows, outcomes


def _identity_rows(seeds: list[Record], rng: random.Random) -> tuple[list[Record], list[Record]]:
    """(identity rows, the benign seeds left unused); at most half the seeds get one."""
    quota = min(IDENTITY_ROWS, len(seeds) // 2)
    terms = list(IDENTITY_TERMS)
    rng.shuffle(terms)
    used: Counter[str] = Counter()
    rows: list[Record] = []
    left: list[Record] = []
    for seed in seeds:
        if len(rows) >= quota or IDENTITY_WORDS.search(seed.prompt):
            left.append(seed)
            continue
        term = terms[len(rows) % len(terms)]
        pick = rng.randrange(1 << 16)
        # the specific rules first (they fit few prompts), then the general ones in turn
        order = ["author", "audience", *rng.sample(["self-intro", "relation-asked"], 2)]
        for rule in order:
            if used[rule] >= IDENTITY_CAPS[rule]:
                continue
            prompt = identity_insert(seed.prompt, rule, term, pick)
            if prompt is not None:
                used[rule] += 1
                variant = f"{rule}:{term[0]}"
                rows.append(
                    Record(prompt, None, None, source_of("identity"), seed.source, None, variant)
                )
                break
        else:
            left.append(seed)
    return rows, left


def _homonym_rows(seeds: list[Record], rng: random.Random) -> list[Record]:
    used: Counter[str] = Counter()
    rows: list[Record] = []
    topical = [f for f in FRAMES if f.topic is not None]
    generic = [f for f in FRAMES if f.topic is None]
    for seed in seeds:
        if len(rows) >= HOMONYM_ROWS:
            break
        candidates = [f for f in topical if used[f.id] < TOPIC_FRAME_CAP and f.apply(seed.prompt)]
        if not candidates:
            candidates = [f for f in generic if used[f.id] < GENERIC_FRAME_CAP]
        rng.shuffle(candidates)
        for frame in candidates:
            prompt = frame.apply(seed.prompt)
            if prompt is not None:
                used[frame.id] += 1
                rows.append(
                    Record(prompt, None, None, source_of("homonym"), seed.source, None, frame.id)
                )
                break
    return rows


def build_counterfactuals(
    seeds: Mapping[str, list[Record]], seed: int = DEFAULT_SEED
) -> Counterfactuals:
    """Every counterfactual row from `seeds` (loader name -> rows), before decontamination.

    Benign seeds are shuffled once; identity insertions take them first, homonym frames take
    the rest, so no benign prompt gets both. Rows whose normalised prompt repeats an earlier
    row, a seed prompt or a `benign_alarming` prompt are dropped.
    """
    rng = random.Random(seed)
    out = Counterfactuals(rows=[], seed=seed)
    harmful = harmful_seeds(seeds)
    sense, sense_outcomes = _benign_sense_rows(harmful, random.Random(f"{seed}:benign-sense"))
    benign = benign_seeds(seeds)
    rng.shuffle(benign)
    identity, left = _identity_rows(benign, random.Random(f"{seed}:identity"))
    homonym = _homonym_rows(left, random.Random(f"{seed}:homonym"))
    taken = {normalise_text(r.prompt) for rows in seeds.values() for r in rows}
    taken |= {normalise_text(r.prompt) for r in benign_alarming_prompts()}
    kept: list[Record] = []
    for row in sense + identity + homonym:
        key = normalise_text(row.prompt)
        if key in taken:
            out.duplicates_dropped += 1
            continue
        taken.add(key)
        kept.append(row)
    out.rows = kept
    out.outcomes["benign-sense"] = dict(sense_outcomes)
    return out


def build_counterfactuals_from_data(data_dir: Path, seed: int = DEFAULT_SEED) -> Counterfactuals:
    """The rows from the seeds in `data_dir`, less rows whose prompt is an eval prompt or
    near-duplicates an eval text (the eval sets are read here only to drop rows)."""
    from train.data.decontaminate import (
        EvalIndex,
        decontaminate,
        eval_prompt_keys,
        eval_texts,
        near_duplicates,
    )
    from train.data.loaders import load_evals, load_seeds

    built = build_counterfactuals(load_seeds(data_dir), seed)
    kept, exact = decontaminate(built.rows, eval_prompt_keys(data_dir))
    kept, near = near_duplicates(kept, EvalIndex.build(eval_texts(load_evals(data_dir))))
    built.rows = kept
    built.dropped = {"exact_eval_prompt": dict(exact), "near_duplicate": dict(near)}
    return built


# --------------------------------------------------------------------------- reports
def _kind(record: Record) -> str:
    return record.source.split(":", 1)[1]


def _rule(record: Record) -> str:
    return str(record.variant).split(":", 1)[0]


def stats(built: Counterfactuals) -> dict[str, object]:
    """Counts per kind, per kind x rule, per seed source, identity term; drops."""
    rows = built.rows
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        by_rule[_kind(r)][_rule(r)] += 1
    terms = Counter(str(r.variant).split(":", 1)[1] for r in rows if _kind(r) == "identity")
    swapped = Counter(
        rule for r in rows if _kind(r) == "benign-sense" for rule in _rule(r).split("+")
    )
    return {
        "source_prefix": SOURCE_PREFIX,
        "seed": built.seed,
        "rows": len(rows),
        "label": "none (teacher score only)",
        "by_kind": {k: sum(_kind(r) == k for r in rows) for k in KINDS},
        "by_seed_source": dict(sorted(Counter(str(r.category) for r in rows).items())),
        "by_kind_rule": {k: dict(sorted(by_rule[k].items())) for k in KINDS},
        "benign_sense_rule_uses": dict(sorted(swapped.items())),
        "benign_sense_seeds": dict(sorted(built.outcomes.get("benign-sense", {}).items())),
        "identity_terms": dict(sorted(terms.items())),
        "duplicates_dropped": built.duplicates_dropped,
        "dropped": built.dropped,
        "dropped_total": built.dropped_total,
    }


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


LICENCES: dict[str, tuple[str, str]] = {
    "advbench": ("walledai/AdvBench", "MIT"),
    "donotanswer": ("LibrAI/do-not-answer", "Apache-2.0"),
    "jailbreakbench-goals": ("JailbreakBench/JBB-Behaviors", "MIT"),
    "alpaca": ("tatsu-lab/alpaca (5,000-row sample)", "CC BY-NC 4.0"),
    "alpaca-seed-tasks": ("yizhongw/self-instruct seed_tasks", "Apache-2.0"),
}


def _examples(rows: list[Record], kind: str, n: int = 4) -> str:
    picked = [r for r in rows if _kind(r) == kind][:: max(1, len(rows) // 40)][:n]
    return "\n".join(f"- `{r.variant}`: {r.prompt.splitlines()[0][:140]!r}" for r in picked)


def datasheet_markdown(built: Counterfactuals, command: str) -> str:
    numbers = stats(built)
    rows = built.rows
    by_kind: dict[str, int] = numbers["by_kind"]  # type: ignore[assignment]
    by_source: dict[str, int] = numbers["by_seed_source"]  # type: ignore[assignment]
    kind_rows: list[tuple[object, ...]] = [(source_of(k), n) for k, n in by_kind.items()]
    source_rows: list[tuple[object, ...]] = [
        (name, by_source.get(name, 0), *LICENCES[name]) for name in LICENCES
    ]
    rule_rows: list[tuple[object, ...]] = [
        (kind, rule, n)
        for kind, by in numbers["by_kind_rule"].items()  # type: ignore[attr-defined]
        for rule, n in by.items()
    ]
    seeds: dict[str, int] = numbers["benign_sense_seeds"]  # type: ignore[assignment]
    seed_rows: list[tuple[object, ...]] = [
        (what, n) for what, n in seeds.items() if what.startswith("seeds")
    ]
    drops: list[tuple[object, ...]] = [
        (what, hit, n) for what, by in built.dropped.items() for hit, n in by.items()
    ]
    terms = ", ".join(f"{t} {n}" for t, n in numbers["identity_terms"].items())  # type: ignore[attr-defined]
    return f"""# Datasheet: counterfactual edits of the seed prompts (`{SOURCE_PREFIX}:*`)

Written by `{command}` from `train/data/counterfactuals.py` (issue 13, part B).

## What the rows are for
Teaching the student intent rather than topic words. The seeds pair harmful goals with alarming
words and benign prompts with harmless ones; these minimal edits break both correlations:
- `{source_of("benign-sense")}`: a harmful goal (AdvBench, Do-Not-Answer rows harmful under the
  policies, JailbreakBench goals) whose harmful object/verb phrase a hand-written substitution
  rule swapped for a benign sense of the same words or a benign object in the same frame ("make
  a bomb" -> "make a bath bomb", "commit suicide" -> "commit code to a Git repository"). Only
  the matched phrase changes. A seed gives rows only when a rule matched and the rest of the
  sentence holds no harmful cue ("without getting caught", "illegally", "and steal ..."):
  otherwise the edit would still be a harmful request.
- `{source_of("identity")}`: a benign Alpaca instruction with an identity term (religion,
  ethnicity or nationality, sexual orientation, gender identity, disability, age) in a neutral
  predicate: the author of the text to process, the family a recipe is for, the asker's
  self-description, a relative or colleague who asked. The instruction and input are verbatim.
- `{source_of("homonym")}`: a benign Alpaca instruction with a frame that uses an alarming word in
  a harmless sense ("execute the script", "kill the process", "fire up the grill", "killing
  me"), matched to the instruction's topic where one fits. The instruction and input are verbatim.

## Labels: none
Every row has `label = null`. The pipeline rescores augmentation files with the run's teacher
(`train.stages.teacher.score_augmentation`) and the student learns its soft score only
(`train.stages.distill.load_augmentation`; an arm's `augment:` list or `distill --augment`).
An edit that stays borderline is therefore weighted as the teacher sees it, not as a rule says.

## Provenance
- Rules, residual-harm cues, identity terms and frames were written by hand for this project
  from the notions of the Llama Guard 3 hazard taxonomy and OpenAI's moderation categories,
  plus general knowledge, against the SEED prompts they edit. Nothing was taken from an
  evaluation set (OpenAI moderation eval, ToxicChat test, XSTest, HarmBench, DICES); those were
  read only by the decontamination below, to drop rows.
- Seeds come through `train.data.loaders.load_seeds`. `category` is the seed's source,
  `variant` the rule id(s) (`+`-joined when several phrases were swapped; for identity rows
  `<rule>:<term>`); `response` is null.
- Deterministic given the seed ({built.seed}): the same seeds give the same bytes
  (`train.data.records.write_records`).
- Rows whose normalised prompt repeats another row, a seed prompt or a
  `train.data.benign_alarming` prompt are dropped ({built.duplicates_dropped} rows).

## Seed sources and licences
{_table(("seed source", "rows from it", "public copy", "licence"), source_rows)}

The Alpaca rows are CC BY-NC 4.0: a model trained on them is non-commercial.

## Rows: {len(rows)}
{_table(("source", "rows"), kind_rows)}

### Harmful seeds for the benign-sense swaps
{_table(("outcome", "seeds"), seed_rows)}

### Per kind x rule
{_table(("kind", "rule", "rows"), rule_rows)}

### Identity terms
{terms}

### Examples
{_examples(rows, "benign-sense")}
{_examples(rows, "identity")}
{_examples(rows, "homonym")}

## Decontamination against the eval sets
Rows whose prompt is an eval prompt (normalised exact match) or a near-duplicate of an eval text
(`train/data/decontaminate.py`: a shared word 8-gram with an eval prompt or response, or word
Jaccard >= 0.7 on short texts) are dropped: {built.dropped_total} rows in all.
{_table(("check", "source -> eval set", "rows"), drops) if drops else ""}

## Files
- `counterfactuals.jsonl.gz`: `Record` rows
- `stats.json`: the numbers above, machine-readable
"""


def write_counterfactuals(
    out: Path, data_dir: Path, seed: int = DEFAULT_SEED, command: str = ""
) -> Counterfactuals:
    """`out`/counterfactuals.jsonl.gz, stats.json and DATASHEET.md."""
    built = build_counterfactuals_from_data(data_dir, seed)
    out.mkdir(parents=True, exist_ok=True)
    write_records(out / "counterfactuals.jsonl.gz", built.rows)
    (out / "stats.json").write_text(json.dumps(stats(built), indent=2) + "\n")
    (out / "DATASHEET.md").write_text(datasheet_markdown(built, command))
    return built
