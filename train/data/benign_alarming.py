"""Generated benign prompts that use alarming words in harmless senses, labelled safe by intent.

The quick trial's student flagged 72% of benign look-alike prompts: AdvBench-vs-Alpaca data
teaches "sounds dangerous = harmful". The seeds' benign sources hold only a few hundred such
prompts, so these templates add more: technical, sporting, culinary, medical, figurative,
historical and definitional uses of words like kill, shoot, attack, bomb, weapon, drugs. They
were written from general knowledge, not from any eval set, and every generated prompt goes
through the same eval-leakage filter and check as the seeds.
"""

from __future__ import annotations

import random

from train.data.records import Record

SOURCE = "generated-benign:alarming-words"  # the suffix gets the mix's alarming-words weight

# (template, fillers): each filler is substituted into {x}.
TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "How do I kill {x}?",
        (
            "a frozen app on my Mac",
            "a stuck Docker container",
            "all node processes on a Linux server",
            "a tmux session",
            "the weeds in my vegetable garden",
            "mold on a bathroom ceiling",
            "fruit flies in my kitchen",
            "a background job in bash",
            "time at the airport during a long layover",
            "the lights when leaving the office",
        ),
    ),
    (
        "What's the best way to shoot {x}?",
        (
            "portraits in harsh midday sun",
            "a wedding video",
            "the night sky with a phone",
            "a basketball free throw",
            "product photos for an online shop",
            "a short film on a tiny budget",
            "wildlife without scaring the animals",
            "a three-pointer more consistently",
        ),
    ),
    (
        "How should I attack {x}?",
        (
            "this calculus problem",
            "a messy spreadsheet cleanup",
            "the opening in chess as black",
            "a big backlog of emails",
            "the first boss in Elden Ring",
            "a crossword puzzle",
            "the weak side of the defence in football",
            "my thesis literature review",
        ),
    ),
    (
        "{x}",
        (
            "How do I make a bath bomb with citric acid and baking soda?",
            "Why does a photobomb ruin group pictures and how can I avoid one?",
            "What does it mean when a comedian says they bombed on stage?",
            "My presentation bombed yesterday. How do I recover my confidence?",
            "Where did the term 'bombshell' come from?",
            "What are the signs of a heart attack in women?",
            "How do I calm down during a panic attack?",
            "What should I do when my child has an asthma attack?",
            "How do I execute a stored procedure in SQL Server?",
            "How do I terminate a lease early?",
            "How can I crack an egg without getting shell in the bowl?",
            "Is it bad to crack your knuckles?",
            "How do I beat egg whites into stiff peaks?",
            "How do I make a smash burger at home?",
            "What's a good recipe for death by chocolate cake?",
            "How do I fire up a charcoal grill quickly?",
            "How do I blow up a photo without losing quality?",
            "How many balloons can one person blow up in an hour?",
            "How do I treat a poison ivy rash?",
            "What are the symptoms of food poisoning?",
            "How do I steal second base in baseball?",
            "What does it mean to steal the show?",
            "Can you recommend a good murder mystery novel?",
            "Who was the killer in Agatha Christie's best-known novels?",
            "What are some life hacks for saving money on groceries?",
            "What is growth hacking in marketing?",
            "How do I destroy old hard drives so data can't be recovered?",
            "How do I get rid of a wasp nest safely?",
            "What's the best trap for mice that is humane?",
            "How do I gut and clean a trout I caught?",
            "How do I butcher a whole chicken into parts?",
            "Which drugs are used to treat high blood pressure?",
            "What is the maximum safe daily dose of ibuprofen for an adult?",
            "How do antibiotics kill bacteria?",
            "How do vaccines help the immune system fight viruses?",
            "Why is alcohol bad for the liver?",
            "What are the health effects of smoking weed?",
            "How do I talk to my teenager about drugs?",
            "What drugs interact badly with grapefruit?",
            "Why did the Chernobyl reactor explode?",
            "What caused the attack on Pearl Harbor?",
            "How did the atomic bombings of Hiroshima and Nagasaki end World War II?",
            "What weapons did Roman legionaries carry?",
            "Which weapons were used in the Hundred Years' War?",
            "What is the legal definition of murder?",
            "What is the difference between murder and manslaughter?",
            "What is terrorism, according to the United Nations?",
            "What does 'assassination' mean?",
            "Why do volcanoes explode?",
            "How does a nuclear power plant generate electricity?",
            "How do fireworks get their colours?",
            "What is a computer virus and how do I remove one?",
            "How do I protect my website from SQL injection attacks?",
            "What are common phishing attacks and how do I spot them?",
            "How do penetration testers find vulnerabilities with permission?",
            "What is a zero-day exploit?",
            "What should I do if my car battery is dead?",
            "Why do leaves die and fall in autumn?",
            "How long do goldfish live before they die?",
            "What's the best weapon in Minecraft?",
            "Which weapon build is strongest in Skyrim?",
            "How do I get a headshot more often in Valorant?",
            "Can you explain how a knife should be sharpened?",
            "Which kitchen knife is best for slicing bread?",
            "How do I hunt for bargains at flea markets?",
            "How do I fight procrastination?",
            "How do I fight a parking ticket in court?",
            "How do I beat jet lag?",
            "How can I choke up on the bat for better control?",
            "How do I burn CDs on Windows 11?",
            "How can I burn more calories while walking?",
            "What happens if you die in a video game?",
            "Why do people say 'break a leg' before a show?",
            "What does 'kill two birds with one stone' mean?",
            "What does it mean to be 'dead tired'?",
            "How can I slay my job interview?",
            "How do I knock out a to-do list quickly?",
            "Where can I shoot clay pigeons legally?",
            "How do I load a dishwasher to blast away grease?",
            "How do I stop my code from crashing with a null pointer exception?",
            "What are rage rooms where you smash plates?",
            "How do I punch holes in leather for a belt?",
            "Why is it called a 'killer app'?",
            "How do you fire a ceramic pot in a kiln?",
            "How do bomb-sniffing dogs get trained?",
            "How do police negotiators defuse hostage situations?",
            "Who were the Gunpowder Plot conspirators and what happened to them?",
            "How do I write a villain's threatening speech for my fantasy novel?",
            "How do I report a threatening message to the police?",
            "What are the warning signs that someone is being abused, and how can I help?",
            "How do I support a friend who is addicted to gambling?",
            "Where can I find help if I'm struggling with drug addiction?",
        ),
    ),
    (
        "Can you explain what {x} means?",
        (
            "a hostile takeover",
            "a drive-by download",
            "a kill switch in software",
            "a bombing run in aviation history",
            "overkill",
            "a shotgun wedding",
            "a poison pill defence in corporate law",
            "a knockout stage in a tournament",
            "the nuclear option in the Senate",
            "a fire sale",
        ),
    ),
)


def benign_alarming_prompts(seed: int = 0) -> list[Record]:
    """All template prompts, each once, in a seeded order (label 0, source `generated-benign`)."""
    prompts = sorted({template.format(x=x) for template, fills in TEMPLATES for x in fills})
    random.Random(seed).shuffle(prompts)
    return [Record(p, None, 0, SOURCE, "alarming-words-benign") for p in prompts]
