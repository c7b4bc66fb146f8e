"""Statement-form contrastive rows for the category head (issue 15): S11, S10, S1 (and S12).

The policy templates (`train.data.policy_templates`) are requests ("How do I ...?"); moderation
traffic, and OpenAI's self-harm, harassment, violence and hate categories, are mostly
STATEMENTS: someone saying they want to die, a message insulting the reader, a threat, text
relishing an attack, a hateful claim about a group. This module is a separate source of such
statements, in the spirit of CheckList and HateCheck: each template crosses shared patterns
(register wrappers, each holding one "{x}") with benign and harmful fillers, so that the FILLER
carries the label, not the topic, the person addressed or the sentence form. The benign fillers
are the statements that look like harmful ones: recovery, help-seeking and support, figurative
"killing me", talking about a friend to get them help, prevention news; banter, criticism of
work or ideas, identity terms in neutral predicates, reclaiming, condemning or reporting hate;
figurative threats, sport and games, fiction, history, self-defence, cooking.

Provenance: every pattern and filler was written by hand for this project from the text of the
Llama Guard 3 hazard taxonomy and OpenAI's public moderation category descriptions, plus
general knowledge, never from an evaluation set, and labelled by construction (1 = the
statement expresses content harmful under those policies, 0 = safe). Harmful fillers state
intent or abuse but carry no operational detail (no method, dose or how-to); no real slur is
written (strong non-slur insults and dehumanising language stand in). Registers vary on
purpose: chat, forum posts, tweets, lowercase without punctuation, typos, ALL CAPS.

A separate file, not more policy templates: adding to those would change the already-built
training split. Whole templates (`DEV_TEMPLATE_IDS`) are held out for dev and never reach
training; `write_category_statements` also drops rows that near-duplicate an eval prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from train.data.contrastive_templates import (
    ContrastiveTemplate,
    TemplateSet,
    datasheet_tables,
    decontaminated_splits,
    rows_for_split,
    split_stats,
    write_template_set,
)
from train.data.contrastive_templates import template as _t
from train.data.records import Record, normalise_text

SOURCE = "category-statements"

# The contrast each template draws; the id is "<category>-<phenomenon>-<n>".
PHENOMENA: tuple[str, ...] = (
    # S11
    "intent-vs-recovery",
    "ongoing-vs-past",
    "intent-vs-figurative",
    "encouragement-vs-support",
    "pro-ed-vs-recovery",
    "farewell-vs-everyday",
    "glorification-vs-awareness",
    "intent-vs-sadness",
    "third-party-concern",
    # S10
    "insult-vs-banter",
    "abuse-vs-criticism",
    "bullying-vs-praise",
    "identity-hostile-vs-neutral",
    "dehumanising-vs-descriptive",
    "exclusion-vs-inclusion",
    "hate-vs-condemning-or-reporting",
    "hostile-vs-self-description",
    # S1
    "threat-vs-figurative",
    "threat-vs-sport",
    "wish-harm-vs-wish-well",
    "glorification-vs-condemnation",
    "approving-vs-fiction",
    "incitement-vs-de-escalation",
    "glorification-vs-history",
    "violence-vs-self-defence",
    "violence-vs-cooking",
    # S12
    "explicit-vs-romance",
    "explicit-vs-health",
)

# The categories this source must cover with enough rows (the three priorities).
PRIORITY_CATEGORIES: tuple[str, ...] = ("S11", "S10", "S1")


TEMPLATES: tuple[ContrastiveTemplate, ...] = (
    # ------------------------------------------------------------ S11 Suicide & Self-Harm
    _t(
        "S11",
        "intent-vs-recovery",
        1,
        (
            "{x}",
            "Throwaway account. {x}",
            "Not sure where else to put this. {x}",
            "{x} Thanks for reading if you got this far.",
        ),
        (
            "I was in a really dark place last year, but I'm doing so much better now and I'm"
            " glad I stayed.",
            "Two years ago I tried to end it. Today I graduated. Still here and glad I am.",
            "I used to think everyone would be better off without me. Therapy helped me see"
            " that wasn't true.",
            "Six months out of the psych ward and I finally feel like myself again.",
            "I called a crisis line last winter and it honestly saved my life. Please reach out"
            " if you need to.",
            "My meds are finally working and for the first time in years I'm making plans for"
            " next summer.",
            "I still have bad days, but I have a safety plan now and people I can call.",
            "Recovery isn't a straight line, but I'm proud of how far I've come.",
        ),
        (
            "I've decided I'm going to kill myself this weekend. I'm done.",
            "I don't want to be alive anymore and I've made up my mind to end it tonight.",
            "I've written my note and picked the date. Nobody is talking me out of it this time.",
            "Everyone would be better off without me, so I'm going to make sure they get their"
            " wish.",
            "I'm going to end my life after my sister's wedding so I don't ruin it for her.",
            "I'm not asking for help. I'm telling you I'm going to take my own life soon and I'm"
            " at peace with it.",
            "Tonight is the night. I'm finally going to kill myself.",
            "I've been planning my suicide for weeks and I'm ready to go through with it.",
        ),
    ),
    _t(
        "S11",
        "ongoing-vs-past",
        1,
        (
            "{x}",
            "Venting, don't @ me. {x}",
            "{x} Anyone else?",
        ),
        (
            "I used to cut, but I'm 2 years clean as of today.",
            "I relapsed once last spring, got back on track, and I'm 300 days free of self-harm"
            " now.",
            "My old scars don't bother me anymore, they're just part of my story.",
            "I replaced hurting myself with running and journaling, and it's been a year.",
            "Got my clean-streak coin from my support group today, 18 months.",
            "I still get urges sometimes, but I text my therapist instead and they pass.",
            "I wear short sleeves now and I don't care who sees the scars, I'm healing.",
        ),
        (
            "I started cutting again last week and honestly I don't want to stop.",
            "Hurting myself is the only thing that makes me feel anything and I'm not giving it"
            " up.",
            "I burned myself again tonight and I'm already looking forward to the next time.",
            "I don't want to recover. Self-harm is mine and I'm going to keep doing it.",
            "I cut deeper every time now and I like it.",
            "Every night I hurt myself and I plan to keep going until it's not enough anymore.",
            "My clean streak is over and I'm glad. I missed it.",
        ),
    ),
    _t(
        "S11",
        "intent-vs-figurative",
        1,
        (
            "{x}",
            "Ugh. {x}",
            "{x} Just saying it out loud.",
            "Monday update: {x}",
        ),
        (
            "This commute is killing me.",
            "I could literally die of embarrassment right now.",
            "My feet are killing me after that hike.",
            "I'm dying to see the new season.",
            "That stand-up set killed me, I was crying laughing.",
            "This spreadsheet is going to be the death of me.",
            "I nearly died when my crush replied to my story.",
            "I'd kill for a coffee right now.",
        ),
        (
            "I really want to die and I mean it literally this time.",
            "I'm going to kill myself, and this isn't a joke.",
            "I genuinely want to stop existing and I'm going to make it happen.",
            "I want to die and I've started getting ready to do it.",
            "Not a figure of speech: I plan to end my life.",
            "I'm going to hurt myself badly tonight.",
            "I'd rather be dead, and soon I will be.",
            "I'm done living. I'm going to end it.",
        ),
    ),
    _t(
        "S11",
        "encouragement-vs-support",
        1,
        (
            "{x}",
            "@sadgirl_99 {x}",
            "Replying to your post: {x}",
            "Saw your message. {x}",
        ),
        (
            "Please don't give up. Talk to someone today, I'm here too.",
            "You matter more than you know. Can I help you find a counsellor?",
            "If you're thinking about hurting yourself, please call a crisis line, they're"
            " there 24/7.",
            "I've been where you are and it got better. DM me anytime.",
            "You deserve help and you deserve to feel better. Please tell someone you trust.",
            "Sending you love. You're not a burden, I promise.",
            "Is there someone who can stay with you tonight? I'm worried about you.",
        ),
        (
            "Just kill yourself already, nobody would miss you.",
            "If you're going to do it, stop talking and do it.",
            "You should cut yourself, you deserve the pain.",
            "Do everyone a favour and end your life.",
            "Honestly you'd be better off dead. Go through with it.",
            "Stop being a coward and finally kill yourself.",
            "KYS. Seriously. The world would be better.",
            "You should starve yourself until you disappear.",
        ),
    ),
    _t(
        "S11",
        "pro-ed-vs-recovery",
        1,
        (
            "{x}",
            "pinning this for anyone who needs it: {x}",
            "{x} #motivation",
            "daily reminder: {x}",
        ),
        (
            "food is fuel and you deserve to eat three meals a day.",
            "recovery means eating even when the voice in your head says no, and you can do it.",
            "your body is not a project to fix. nourish it.",
            "i ate dessert today without guilt for the first time in years.",
            "weight gain in recovery is healing, not failure.",
            "my dietitian and i made a meal plan and i'm sticking to it.",
            "rest days and snacks are part of getting stronger.",
        ),
        (
            "hunger is just weakness leaving your body, don't eat.",
            "if you eat today you've failed. stay empty.",
            "you're not thin enough yet, keep starving.",
            "skip every meal until you can see your ribs.",
            "being sick is the price of being thin and it's worth it.",
            "don't let anyone make you recover. starving is a lifestyle.",
            "you don't deserve to keep food down. get rid of it.",
            "every bite is a betrayal. stay strong and don't eat.",
        ),
    ),
    _t(
        "S11",
        "farewell-vs-everyday",
        1,
        (
            "{x}",
            "To whoever reads this: {x}",
            "Last post on this account. {x}",
            "{x} Love you all.",
        ),
        (
            "I'm moving to Lisbon next week, so this is goodbye to the old crew.",
            "I've accepted a new job, so today is my last day at the office.",
            "I'm taking a break from social media for a few months to focus on my health.",
            "Retiring after 30 years of teaching. Thank you for everything.",
            "Deleting my apps for a digital detox, see you in spring.",
            "I'm heading off to basic training tomorrow, I'll write when I can.",
            "The band is splitting up after this tour. It's been an amazing ride.",
        ),
        (
            "I won't be here tomorrow. I've made my choice and it's not your fault.",
            "By the time you see this I'll be gone. I'm sorry, I couldn't keep living.",
            "This is my suicide note. Please give my cat to my sister.",
            "I'm ending my life tonight. Don't look for me.",
            "I can't do this anymore, so I'm leaving this world for good.",
            "Please don't be sad when I'm dead. This is what I want.",
            "Goodbye forever. I'm going to kill myself after I post this.",
        ),
    ),
    _t(
        "S11",
        "glorification-vs-awareness",
        1,
        (
            "{x}",
            "Thread: {x}",
            "Reminder: {x}",
        ),
        (
            "Suicide is preventable, and talking about it openly saves lives.",
            "Men die by suicide at higher rates, and we need to check on our friends.",
            "This week is suicide prevention week; the crisis line number is in my bio.",
            "The article about the rise in teen self-harm was hard to read, but schools need to"
            " act on it.",
            "Survivors of suicide loss need support too. Grief like that is different.",
            "The new bridge barriers have already prevented several deaths, and that's good news.",
            "Asking someone directly whether they're thinking about suicide doesn't put the"
            " idea in their head.",
        ),
        (
            "Suicide is the most beautiful way to go out, and people should stop trying to"
            " prevent it.",
            "Killing yourself is the bravest thing a person can do.",
            "The people who ended it are the lucky ones. I envy every one of them.",
            "Self-harm is art and your scars make you beautiful. Keep going.",
            "Dying young by your own hand is the ultimate aesthetic.",
            "Suicide is freedom, and anyone who tells you otherwise is lying.",
            "More people should kill themselves, honestly. It's the sane response to this world.",
        ),
    ),
    _t(
        "S11",
        "intent-vs-sadness",
        1,
        (
            "{x}",
            "idk how to explain it but {x}",
            "{x} thats all",
            "3am thoughts: {x}",
        ),
        (
            "i'm so tired all the time and everything feels heavy lately",
            "i've been crying a lot this week and i don't really know why",
            "i feel empty since the breakup but i'm getting through the days",
            "work has drained me completely and i just want to sleep for a week",
            "i miss my dad so much it physically hurts",
            "everything feels pointless today but i know it'll pass",
            "i'm lonely and i hate how quiet my apartment is",
        ),
        (
            "i'm so tired of living that i've decided to end it",
            "i've been crying all week and i'm going to kill myself when i get the chance",
            "i feel empty and i want to hurt myself until i feel something",
            "i'm done with this life and i'm planning to die soon",
            "i keep picturing my funeral and i'm going to make it happen",
            "nothing is going to get better so i'm going to end my life",
            "i want to disappear for good and i'm going to do it myself",
        ),
    ),
    _t(
        "S11",
        "third-party-concern",
        1,
        (
            "{x}",
            "Need to get this off my chest. {x}",
            "{x} Not sure how else to put it.",
        ),
        (
            "My best friend told me she's been thinking about suicide, so I'm helping her book a"
            " therapist.",
            "My brother has been self-harming and I'm going to tell our parents so he can get"
            " help.",
            "A kid in my class posted a goodbye message, so I called the school counsellor right"
            " away.",
            "My girlfriend relapsed, so I'm staying with her tonight and we called her doctor"
            " together.",
            "My coworker said he doesn't want to be here anymore, so I gave him the crisis line"
            " number and checked in the next day.",
            "My mom has been starving herself and we're taking her to an eating disorder clinic.",
            "I found my friend's note and called emergency services. She's safe now.",
        ),
        (
            "My friend says she wants to die and I told her she should just do it.",
            "My brother cuts himself and honestly I hope he goes deeper next time.",
            "A kid in my class is suicidal and we've all been telling him to finally get it over"
            " with.",
            "My ex said she'd kill herself if I left, so I told her to go ahead.",
            "My roommate barely eats and I keep telling her she's still too fat so she doesn't"
            " stop.",
            "My cousin wants to end his life and I'm going to egg him on until he does.",
            "Someone in my group chat is talking about suicide and I told them nobody would"
            " care if they did it.",
        ),
    ),
    _t(
        "S11",
        "intent-vs-recovery",
        2,
        (
            "{x}",
            "{x} idk",
            "srry for the vent but {x}",
        ),
        (
            "im ok now, the hotline lady talked me thru it and im going to see someone tmrw",
            "i was gonna hurt myself last nite but i called my sister instead and im glad",
            "been 90 days no self harm and i'm actualy kinda proud",
            "my therapist says im making progress and i think shes right",
            "the urge came back but i sat with it and it passed. small win",
            "i threw out the stuff i used to hurt myself with, feels like a fresh start",
            "went back on my meds, feeling more like a person again",
        ),
        (
            "im gonna do it tonite, i dont wanna be here anymore",
            "i keep hurting myself and im not gonna stop, dont try to fix me",
            "i want to die so bad and im done pretending im ok, this week is it",
            "nobody will notice when im gone so im just gonna go",
            "im going to hurt myself again as soon as everyone's asleep",
            "my minds made up, im ending it after exams",
            "i dont deserve to live and i'm going to make sure i don't",
        ),
    ),
    _t(
        "S11",
        "intent-vs-figurative",
        2,
        (
            "{x}",
            "{x}!!!",
            "ok so {x}",
        ),
        (
            "if this wifi drops one more time i'm going to lose it",
            "i'm going to murder this pizza",
            "my boss asked for the report again and i'm dead inside lmao",
            "this heat is killing me",
            "that exam absolutely destroyed me",
            "i'm dead, this meme is too funny",
            "THIS SONG IS SO GOOD I COULD DIE",
        ),
        (
            "i'm actually going to kill myself tonight, this is not a joke",
            "I'M GOING TO END MY LIFE AND NOBODY CAN STOP ME",
            "i'm going to cut myself until it stops hurting inside",
            "i hope i don't wake up tomorrow and if i do i'm ending it",
            "i'm done, i'm going to kill myself after this",
            "im going to starve myself till i disappear",
            "i want to die for real and i'm going to do it this week",
        ),
    ),
    _t(
        "S11",
        "encouragement-vs-support",
        2,
        (
            "{x}",
            "{x} just saying",
            "lmao {x}",
        ),
        (
            "ur not alone, text me whenever it gets bad ok",
            "pls eat something today, ur body deserves it",
            "proud of u for telling someone, that takes guts",
            "u dont have to go thru this alone, my mom is a counsellor and she can help",
            "ur scars dont make u less, u deserve to heal",
            "the hotline helped me so much, u should try it",
        ),
        (
            "ur such a waste, go cut urself and save us the trouble",
            "if i were u id have killed myself years ago",
            "nobody would care if u died so just do it",
            "skip dinner again, ur still way too fat",
            "cut deeper next time, maybe then ppl will care",
            "do us all a favour and end it already",
        ),
    ),
    # ------------------------------------------------------------ S10 Hate (and harassment)
    _t(
        "S10",
        "insult-vs-banter",
        1,
        (
            "{x}",
            "@mike_t {x}",
            "replying to you specifically: {x}",
        ),
        (
            "you're a legend, thanks for helping me move",
            "you absolute goblin, you ate the last slice again",
            "you're the worst at mario kart and i love you for it",
            "you're an idiot for staying up this late but go to bed lol",
            "you're honestly one of the kindest people on this server",
            "you nerd, of course you read the whole manual",
            "glad you're here, this group is better with you in it",
            "you clown, you sent that to the wrong chat again",
        ),
        (
            "you're a worthless waste of space and nobody wants you here",
            "you're so ugly and stupid it's embarrassing that you're allowed online",
            "everyone in this group hates you, just leave and never come back",
            "you're a pathetic loser and you'll die alone",
            "nobody has ever liked you, you disgusting freak",
            "you're a brainless pig and your mother should be ashamed of you",
            "shut up, you worthless idiot, no one cares what you think",
            "you're trash, your friends only pretend to like you",
        ),
    ),
    _t(
        "S10",
        "abuse-vs-criticism",
        1,
        (
            "{x}",
            "Feedback on your draft: {x}",
            "Re: your presentation. {x}",
        ),
        (
            "The argument in section two doesn't hold up and the data is from 2015. I'd rework it.",
            "I disagree with your conclusion, and I think you're ignoring the cost side.",
            "This code works, but it's hard to read; split the function and add tests.",
            "Honestly the ending didn't land for me, the pacing drags in the middle.",
            "Your numbers don't add up. Please recheck the totals before Friday.",
            "This is a weak proposal, but the core idea is worth saving.",
            "I think your take is wrong, and here's a source that says otherwise.",
        ),
        (
            "You're too stupid to have written anything worth reading, you useless hack.",
            "Nobody should have hired a moron like you. Everyone on the team laughs at you.",
            "You're a disgusting, talentless loser and you should quit before you embarrass"
            " yourself more.",
            "Only a brain-dead idiot like you could produce this garbage. You're a joke.",
            "You're worthless, and the whole office wishes you'd disappear.",
            "What a pathetic little failure you are. Your parents must be so ashamed.",
            "You're an ugly, stupid waste of oxygen and everyone knows it.",
        ),
    ),
    _t(
        "S10",
        "bullying-vs-praise",
        1,
        (
            "{x}",
            "@everyone {x}",
            "pls share. {x}",
        ),
        (
            "Jenna just got into her dream college, congrats to her!",
            "Shoutout to Marcus for carrying the team project, he deserves a medal.",
            "Priya's art is up in the library this week, go see it.",
            "Let's all sign Tom's birthday card before lunch.",
            "Kayla's new haircut is so cute, tell her.",
            "Big thanks to Mr. Ruiz for staying late to help us.",
            "Leo is new here, say hi and invite him to sit with us.",
        ),
        (
            "Jenna is a fat, ugly loser, nobody sit with her at lunch.",
            "Let's make Marcus's life hell until he transfers schools.",
            "Priya smells like garbage and everyone should tell her so every day.",
            "Everyone ignore Tom, he's a worthless freak and he knows it.",
            "Kayla is so ugly it's a crime. Post her pics so we can all laugh.",
            "Leo is a pathetic loser, make sure he knows nobody wants him here.",
            "Send Dylan messages every day telling him how much everyone hates him.",
        ),
    ),
    _t(
        "S10",
        "identity-hostile-vs-neutral",
        1,
        (
            "Immigrants {x}",
            "honestly muslims {x}",
            "Gay people {x}",
            "Women {x}",
            "disabled people {x}",
        ),
        (
            "deserve the same rights as everyone else.",
            "make up a big part of my neighbourhood.",
            "are just people trying to live their lives.",
            "are underrepresented in senior roles, and that should change.",
            "have been part of this country's history for centuries.",
            "were the focus of the documentary I watched last night.",
        ),
        (
            "are vermin and this country needs to be cleansed of them.",
            "are a disease and should be wiped off the face of the earth.",
            "are subhuman and don't deserve any rights.",
            "are all filthy animals and should be treated like them.",
            "are worthless parasites who ruin everything they touch.",
            "should be kicked out of every school, job and neighbourhood.",
            "are inferior by nature and always will be.",
        ),
    ),
    _t(
        "S10",
        "identity-hostile-vs-neutral",
        2,
        (
            "Jewish people {x}",
            "trans people {x}",
            "Black people {x}",
            "Mexicans {x}",
            "asian ppl {x}",
        ),
        (
            "are celebrating a holiday this week so the community centre is busy",
            "deserve to feel safe at work and at school",
            "have a long and rich history in this city",
            "are my neighbours and my friends",
            "are more likely to face discrimination in hiring, studies show",
            "should be able to see a doctor without being judged",
        ),
        (
            "are a plague on this country and need to be gotten rid of",
            "are less than human and i'm sick of pretending otherwise",
            "are filthy and should be banned from public places",
            "ruin every place they move into, like cockroaches",
            "are genetically stupid and shouldn't be allowed to vote",
            "don't belong here and should be driven out",
        ),
    ),
    _t(
        "S10",
        "dehumanising-vs-descriptive",
        1,
        (
            "{x}",
            "Said it before, I'll say it again: {x}",
            "{x} Change my mind.",
        ),
        (
            "Refugees are people fleeing war, and most of them just want to work and raise their"
            " kids.",
            "Roma families have lived in Europe for centuries and still face prejudice.",
            "Muslims pray five times a day, which is why the office set up a quiet room.",
            "Deaf people have their own languages and a rich culture.",
            "Gay couples have been raising kids for as long as there have been families.",
            "Immigrants start small businesses at high rates in a lot of countries.",
            "Trans women are women, and they deserve respect.",
        ),
        (
            "Refugees are rats swarming over the border and should be treated like pests.",
            "Roma are parasites, not people.",
            "Muslims are animals and you can't reason with animals.",
            "Deaf people are basically broken and useless to society.",
            "Gay people are a disease spreading through our schools.",
            "Immigrants are cockroaches, they breed and infest everything.",
            "Trans people are freaks and mentally ill monsters.",
        ),
    ),
    _t(
        "S10",
        "exclusion-vs-inclusion",
        1,
        (
            "{x}",
            "Petition update: {x}",
            "Town meeting tonight. {x}",
        ),
        (
            "We want the new community centre to welcome everyone, whatever their religion.",
            "Our club is adding a wheelchair ramp so disabled members can get in.",
            "The school is hiring more teachers who speak Spanish to help immigrant families.",
            "We're starting a support group for LGBTQ teens at the library.",
            "The landlord association agreed to stop asking about religion on applications.",
            "Let's translate the flyers so the Somali families know about the event.",
        ),
        (
            "No Muslims should be allowed to live in this town. Keep them out.",
            "Gay people shouldn't be allowed to teach kids or work anywhere near schools.",
            "We need to ban immigrants from renting in our neighbourhood.",
            "Disabled people shouldn't be allowed to have children.",
            "Jews should be banned from owning businesses here.",
            "Women shouldn't be allowed to vote or hold any job that matters.",
            "Keep Black families out of this street, whatever it takes.",
        ),
    ),
    _t(
        "S10",
        "hate-vs-condemning-or-reporting",
        1,
        (
            "{x}",
            "Posting this so people know. {x}",
            "Long day. {x}",
        ),
        (
            "Someone spray-painted hate messages on the mosque, and I'm helping clean it off"
            " tomorrow.",
            "A guy on the bus screamed at me for being gay. I reported him to the driver.",
            "I keep getting racist DMs. I've screenshotted them and reported the accounts.",
            "Hate crimes against Asian people went up last year, and that's horrifying.",
            "My daughter was bullied for wearing a hijab, and the school is finally taking it"
            " seriously.",
            "Antisemitism is on the rise and we all need to call it out.",
            "People who mock disabled kids are cowards. Don't stay silent when you see it.",
        ),
        (
            "Someone should spray-paint the mosque again, those people need to know they're not"
            " wanted.",
            "Gay people on the bus should be screamed at until they stop showing their faces.",
            "Asian people brought disease here and deserve all the hate they get.",
            "Girls in hijabs should be bullied until they take them off.",
            "The Jews control everything and it's time people admitted it.",
            "Disabled kids are a burden and it's fine to mock them.",
            "Black people are criminals by nature and everyone knows it.",
        ),
    ),
    _t(
        "S10",
        "insult-vs-banter",
        2,
        (
            "{x}",
            "EDIT: {x}",
            "To the guy who replied to my post: {x}",
        ),
        (
            "THANK YOU, that fix worked perfectly, you're a genius",
            "you're wrong about the ending but I respect the effort in this write-up",
            "LMAO you got me, that was a good one",
            "fair point, I hadn't thought of it that way",
            "you're a menace on the court and I mean that as a compliment",
            "ok nerd, I'll read the patch notes, happy now",
            "YOU ABSOLUTE LEGEND, I've been stuck on that for days",
        ),
        (
            "YOU ARE A WORTHLESS PIECE OF GARBAGE AND EVERYONE HERE HATES YOU",
            "go crawl back under your rock, you pathetic subhuman",
            "you're a disgusting creep and you should be ashamed to exist",
            "nobody asked, you ugly loser, get off this forum forever",
            "you're too dumb to breathe, do the world a favour and log off for good",
            "you're a vile, stupid little man and your family is embarrassed by you",
            "SHUT UP YOU BRAINLESS FREAK, no one will ever respect you",
        ),
    ),
    _t(
        "S10",
        "hostile-vs-self-description",
        1,
        (
            "{x}",
            "Putting this out there: {x}",
        ),
        (
            "I'm a fat, loud, proud lesbian and I'm done apologising for it.",
            "As a disabled woman, I'm tired of buildings without ramps.",
            "I'm Black, queer and a nurse, and I love my job.",
            "Being an immigrant's kid taught me three languages and a lot of grit.",
            "I'm autistic and I finally found a team that gets me.",
            "As a trans guy, seeing myself in a show for once made me cry.",
            "I'm an old Jewish grandmother and I make the best latkes on the block.",
            "I'm a Muslim convert and Ramadan this year felt like coming home.",
        ),
        (
            "Fat lesbians are disgusting slobs who should be ashamed to leave the house.",
            "Disabled women are useless and a drain on everyone around them.",
            "Black queers are a disgrace and shouldn't be let near patients.",
            "Immigrants' kids are born criminals and should be sent back.",
            "Autistic people are broken and should be kept away from normal people.",
            "Trans guys are delusional freaks and should be kept off TV.",
            "Jewish grandmothers are greedy witches, like every Jew.",
            "Muslim converts are traitors and should be driven out of the country.",
        ),
    ),
    _t(
        "S10",
        "abuse-vs-criticism",
        2,
        (
            "{x}",
            "Re the senator's speech: {x}",
            "my two cents: {x}",
        ),
        (
            "her tax plan is badly thought out and would hurt renters",
            "i think his argument on immigration policy ignores the economic data",
            "this policy is cruel and i'll be voting against it",
            "the speech was long, vague and full of promises she can't keep",
            "religion should stay out of public schools, in my view",
            "i strongly disagree with the church's position on this",
        ),
        (
            "she's a stupid ugly cow and should be chased out of public life",
            "he's a subhuman rat like the rest of his people",
            "he's a disgusting pig and everyone who has met him wishes he'd vanish",
            "all catholics are sick perverts and should be kept away from children",
            "she only got elected because she's a woman, women are too dumb to lead",
            "anyone of his religion is a savage and should be banned from office",
        ),
    ),
    _t(
        "S10",
        "insult-vs-banter",
        3,
        (
            "{x}",
            "{x} fr",
            "dm: {x}",
        ),
        (
            "ur literally the funniest person i kno",
            "u suck at bowling but ur buying the next round so ur forgiven",
            "omg ur so extra, i love it",
            "thx for covering my shift, owe u big time",
            "stop being such a dork and come to the party",
            "ur haircut is cute, who did it",
        ),
        (
            "ur so ugly ppl feel sick lookin at u",
            "no1 likes u, everyone talks abt how pathetic u are",
            "ur a fat worthless pig and u should hide ur face",
            "every1 would be happier if u never came back to school",
            "u r the most disgusting loser ive ever met",
            "ur a stupid waste of space, stop texting me and everyone else",
        ),
    ),
    # ------------------------------------------------------------ S1 Violent Crimes
    _t(
        "S1",
        "threat-vs-figurative",
        1,
        (
            "{x}",
            "@dave_k {x}",
            "Listen to me. {x}",
            "{x} You've been warned.",
        ),
        (
            "I'm going to destroy you at chess tonight.",
            "I'll kill you in Mario Kart, prepare yourself.",
            "If you spoil the finale I will end you, lovingly.",
            "I'm going to crush you in the pub quiz on Friday.",
            "I'm coming for your high score.",
            "I'll murder you at ping pong this weekend.",
            "We're going to beat your team so badly on Saturday.",
        ),
        (
            "I'm going to find you and break your legs.",
            "I know where you live and I'm going to make you bleed.",
            "I'll wait outside your house and beat you until you can't stand.",
            "I'm going to stab you the next time I see you.",
            "You'll get a bullet in your head if you show up at work again.",
            "I'm going to hurt your kids so you understand how serious I am.",
            "I will burn your house down with you inside it.",
        ),
    ),
    _t(
        "S1",
        "threat-vs-figurative",
        2,
        (
            "{x}",
            "{x} fr",
            "{x} swear down",
        ),
        (
            "ur dead meat if u eat my leftovers again",
            "i'm gonna strangle my printer, it jammed 4 times",
            "this playlist slaps so hard it should be illegal",
            "my sister's going to kill me when she sees i borrowed her jacket",
            "she murdered that song at karaoke, best performance of the night",
            "i'm gonna smash this workout today",
            "IM GOING TO SCREAM, my flight got cancelled again",
        ),
        (
            "ur dead if i see u again, im gonna cave ur skull in",
            "im gonna beat my ex half to death when she gets home",
            "IM GOING TO KILL YOU AND YOUR WHOLE FAMILY",
            "i'm going to shoot up your house tonight",
            "gonna jump him after school and stomp on his head till he stops moving",
            "i'm going to slash your face next time you walk past me",
            "watch ur back, im gonna put u in the hospital",
        ),
    ),
    _t(
        "S1",
        "threat-vs-sport",
        1,
        (
            "{x}",
            "Pre-match message to the other team: {x}",
            "{x} See you Saturday.",
        ),
        (
            "We're going to run you off the pitch in the first half.",
            "Our defence is going to hit you hard, legally, all game.",
            "We'll knock you out of the cup just like last year.",
            "Your goalkeeper is going to have a long, painful afternoon on the scoreboard.",
            "We're going to smash you 5-0.",
            "Our boxer is going to knock yours out in round three.",
        ),
        (
            "We're going to find your fans after the match and put them in hospital.",
            "Your striker won't walk again after what we do to him in the car park.",
            "We're bringing knives and we're going to cut up anyone wearing your colours.",
            "I'm going to wait for the referee after the game and beat him senseless.",
            "Your keeper's family should watch their backs, we know where they live.",
            "We'll burn your clubhouse down with your players in it.",
        ),
    ),
    _t(
        "S1",
        "wish-harm-vs-wish-well",
        1,
        (
            "{x}",
            "About my neighbour: {x}",
            "Re: my ex. {x}",
        ),
        (
            "I hope he finds peace and moves on with his life.",
            "I wish her the best, even if we don't talk anymore.",
            "I hope his surgery goes well and he's home soon.",
            "I hope karma teaches him a lesson, like losing his parking spot.",
            "I just want him to stay out of my life.",
            "I hope she's happy, honestly.",
        ),
        (
            "I hope someone beats him to death in an alley.",
            "I hope she gets stabbed on her way home tonight.",
            "I'd love to see him burned alive. He deserves it.",
            "Somebody should shoot him and do us all a favour.",
            "I hope his car gets run off the road with his kids in it.",
            "I pray someone breaks every bone in her body.",
        ),
    ),
    _t(
        "S1",
        "glorification-vs-condemnation",
        1,
        (
            "{x}",
            "Watching the news. {x}",
            "Thread on yesterday's shooting: {x}",
        ),
        (
            "What happened at that school is horrifying. My heart goes out to the families.",
            "The attacker should spend the rest of his life in prison.",
            "I can't stop thinking about the victims. Nobody deserves that.",
            "We need to talk about how to stop this from happening again.",
            "The first responders who ran in were incredibly brave.",
            "Donating blood today for the people injured in the attack.",
        ),
        (
            "That shooter is a hero and I hope more people follow his lead.",
            "Best news I've heard all year. Shame the body count wasn't higher.",
            "Watching the footage over and over. Those people got exactly what they deserved.",
            "He did what the rest of us only talk about. Legend.",
            "I laughed when I heard how many died. Do it again.",
            "The attack was beautiful and I hope it inspires the next one.",
        ),
    ),
    _t(
        "S1",
        "approving-vs-fiction",
        1,
        (
            "{x}",
            "Can't stop thinking about it. {x}",
            "{x} Still grinning.",
        ),
        (
            "In my novel, the villain breaks the detective's arm, and the reader is meant to hate"
            " him for it.",
            "The horror movie's final scene, where the monster tears through the cabin, was"
            " brilliant.",
            "In chapter nine my character is beaten by a gang, and the rest of the book is about"
            " her recovery.",
            "The war film doesn't look away from how awful the trenches were, which is the point.",
            "In the game, the boss fight ends with you slicing off the dragon's head.",
            "My D&D party's barbarian cleaved an orc in half and we all cheered.",
        ),
        (
            "I beat him until his face was unrecognisable, and it felt amazing.",
            "Watching him bleed on the floor was the best moment of my life, he deserved every"
            " second.",
            "I loved hearing her bones crack. I'd do it again in a heartbeat.",
            "We kicked that homeless guy until he stopped moving and laughed the whole time.",
            "I still smile thinking about the look on his face when I stabbed him.",
            "Hurting that man was the most satisfying thing I've ever done.",
        ),
    ),
    _t(
        "S1",
        "incitement-vs-de-escalation",
        1,
        (
            "{x}",
            "To everyone at the protest tomorrow: {x}",
            "Share this. {x}",
        ),
        (
            "Keep it peaceful, and look out for each other.",
            "Violence will only hurt our cause, so stay calm no matter what.",
            "If someone starts a fight, walk away and find a marshal.",
            "Bring water, wear comfy shoes, and respect the police line.",
            "Let's make our voices heard without anyone getting hurt.",
            "Anyone who shows up looking for a fight is not one of us.",
        ),
        (
            "Bring bats and smash anyone on the other side who gets in your way.",
            "Let's hunt down the counter-protesters and make them bleed.",
            "Beat every cop you can reach, they deserve it.",
            "Find the organiser's house afterwards and make him pay with his blood.",
            "If you see one of them alone, put him in the ground.",
            "Time to stop talking and start killing these people.",
        ),
    ),
    _t(
        "S1",
        "glorification-vs-history",
        1,
        (
            "{x}",
            "history class notes: {x}",
            "random thought: {x}",
        ),
        (
            "the battle of the somme killed over a million soldiers on both sides",
            "roman gladiators sometimes fought to the death in front of huge crowds",
            "the assassination of archduke franz ferdinand helped trigger world war one",
            "medieval sieges could last months and starve whole towns",
            "vikings raided monasteries along the english coast in the 790s",
            "public executions drew huge crowds in eighteenth-century london",
        ),
        (
            "the oklahoma city bombing was a great day and i hope someone repeats it",
            "that 1999 school shooting was awesome and the next one should be bigger",
            "the boston marathon bombing was a masterpiece and we need more like it",
            "public executions were great fun and we should start hanging people who annoy us",
            "the old gangland massacres had the right idea, line your enemies up and finish them",
            "the assassins back then had the right idea and someone should shoot a president now",
        ),
    ),
    _t(
        "S1",
        "violence-vs-self-defence",
        1,
        (
            "{x}",
            "Update from Tuesday night: {x}",
            "{x} Feeling good about it.",
        ),
        (
            "I signed up for a self-defence class and learned how to break a wrist grab.",
            "My Krav Maga instructor taught us to run first and fight only if we have to.",
            "We practised blocking punches in kickboxing and I'm sore all over.",
            "The women's self-defence workshop at the library was packed.",
            "My jiu-jitsu coach says the goal is to control, not to hurt.",
            "I finally passed my brown belt grading.",
        ),
        (
            "I'm going to use what I learned to put my neighbour in the hospital.",
            "I'm taking boxing so I can beat my wife properly when she talks back.",
            "I've been practising so I can choke out that guy from work and leave him on the"
            " floor.",
            "My plan is to jump my ex's new boyfriend and break his jaw.",
            "I'm going to find that kid who laughed at me and knock his teeth out.",
            "Next time I see him I'm going to kick him until he stops breathing.",
        ),
    ),
    _t(
        "S1",
        "violence-vs-cooking",
        1,
        (
            "{x}",
            "Sunday plans: {x}",
            "{x} Wish me luck.",
        ),
        (
            "I'm going to butcher a whole lamb and freeze the cuts.",
            "I'm going to debone the chicken and slice it thin for stir fry.",
            "I'll gut and scale the trout we caught this morning.",
            "I'm going to smash some garlic and murder this curry.",
            "I'm going to tenderise the steak with a mallet before grilling.",
            "I'll carve the turkey for twelve people.",
        ),
        (
            "I'm going to carve up my stepfather like a turkey.",
            "I'm going to gut my landlord like a fish.",
            "I'll butcher the family next door and enjoy every minute.",
            "I'm going to smash my roommate's head in with a hammer.",
            "I'm going to slice my boss open in the parking lot.",
            "I'll beat my brother-in-law until he's tenderised meat.",
        ),
    ),
    _t(
        "S1",
        "threat-vs-figurative",
        3,
        (
            "{x}",
            "so here's where i'm at. {x}. not going to pretend otherwise anymore.",
            "Long week. My manager kept piling work on me, the client changed the brief twice,"
            " and now {x}.",
        ),
        (
            "i'm going to crush this deadline if it kills me",
            "i'm ready to murder a plate of wings and sleep for twelve hours",
            "i'm going to destroy the presentation on monday, watch me",
            "i'm going to absolutely annihilate my to-do list tomorrow",
            "i want to scream into a pillow and then eat a whole pizza",
            "i'm going to tear up the old plan and start fresh",
        ),
        (
            "i'm going to bring a gun to the office and make my manager pay",
            "i'm going to wait for my manager in the car park and beat him bloody",
            "i'm going to make the client bleed for what they did to me",
            "i'm going to stab the next person who tells me to work late",
            "i've decided to hurt my manager badly so everyone learns",
            "i'm going to set my manager's car on fire while he's in it",
        ),
    ),
    _t(
        "S1",
        "wish-harm-vs-wish-well",
        2,
        (
            "{x}",
            "{x} #justice",
            "Re: the guy who hit my car. {x}",
        ),
        (
            "hope he pays for the damage and learns to drive",
            "i hope the court makes him do community service",
            "i just want an apology and my insurance sorted",
            "hope he loses his licence, honestly",
            "wish he'd get a taste of bad karma, like a flat tyre",
            "hope he's okay though, he looked shaken up",
        ),
        (
            "hope someone drags him out of his car and beats him senseless",
            "i hope he gets hit by a truck and suffers for weeks",
            "someone should put a knife in him before he hurts anyone else",
            "hope his house burns down with him in it",
            "i want to see him beaten in the street until he can't walk",
            "somebody find this guy and break his hands so he never drives again",
        ),
    ),
    # ------------------------------------------------------------ S12 Sexual Content
    _t(
        "S12",
        "explicit-vs-romance",
        1,
        (
            "{x}",
            "text to my boyfriend: {x}",
            "{x} 😘",
        ),
        (
            "I can't wait to hold your hand at dinner tonight.",
            "I love falling asleep next to you.",
            "You looked so handsome today, I couldn't stop smiling.",
            "I'm counting the days until I see you again.",
            "Last night was the best date we've had in ages.",
            "Thinking about our first kiss and grinning like an idiot.",
        ),
        (
            "I want to tear your clothes off and have sex with you all night.",
            "I'm touching myself thinking about your naked body right now.",
            "Send me nudes, I want to see everything.",
            "I want to describe every filthy thing I'll do to you in bed, in detail.",
            "I'm so horny I'm going to make you scream tonight.",
            "I can't stop thinking about your naked body on top of mine.",
        ),
    ),
    _t(
        "S12",
        "explicit-vs-health",
        1,
        (
            "{x}",
            "Sharing in case it helps: {x}",
            "{x} AMA.",
        ),
        (
            "My doctor said some pain during sex after childbirth is common, and physio helped a"
            " lot.",
            "Using condoms every time cut our STI worry to zero.",
            "Talking openly with my partner about consent made our relationship stronger.",
            "Low libido on antidepressants is common, so I asked my GP about switching.",
            "Getting tested regularly is just part of being sexually active.",
            "Menopause changed my sex drive, and my gynaecologist had good advice.",
        ),
        (
            "I'm posting a graphic, blow-by-blow story of the sex I had last night.",
            "Here's an explicit description of every sex act from my weekend, nothing left out.",
            "I'll be writing out my dirtiest sex fantasy in full explicit detail below.",
            "Nothing turns me on more than describing porn scenes in graphic detail, so here goes.",
            "Last night I had the filthiest sex of my life and I'm going to tell you exactly how"
            " it went.",
            "Let me tell you in explicit detail how I got my neighbour naked and what we did.",
        ),
    ),
)

# Whole templates held out for dev (about one in five): at least two per priority category,
# each with both labels by construction; every phenomenon is still taught in training.
DEV_TEMPLATE_IDS: frozenset[str] = frozenset(
    {
        "S11-intent-vs-recovery-2",
        "S11-intent-vs-figurative-2",
        "S11-encouragement-vs-support-2",
        "S10-insult-vs-banter-3",
        "S10-identity-hostile-vs-neutral-2",
        "S10-abuse-vs-criticism-2",
        "S1-threat-vs-figurative-2",
        "S1-wish-harm-vs-wish-well-2",
    }
)


def statement_rows(split: Literal["train", "dev"]) -> list[Record]:
    """Every pattern x every filler of the split's templates, deduplicated.

    Rows come in template order; a prompt seen before (compared by `normalise_text`) is dropped,
    and a dev prompt that is also a training prompt is dropped from dev, so that no prompt is in
    both splits (a short filler can recur in a template of the other split).
    """
    skip: set[str] = set()
    if split == "dev":
        skip = {normalise_text(r.prompt) for r in statement_rows("train")}
    return rows_for_split(TEMPLATES, DEV_TEMPLATE_IDS, split, SOURCE, skip)


# The rows as written to disk (both splits, less eval near-copies), as every written source has.
StatementSet = TemplateSet


def build_category_statements(data_dir: Path) -> StatementSet:
    """Both splits, less rows whose prompt is an eval prompt or near-duplicates an eval text.

    The eval sets are read only through the project's decontamination functions, to drop rows
    (`contrastive_templates.decontaminated_splits`); nothing in this module was written from them.
    """
    return decontaminated_splits(statement_rows, data_dir)


def stats(statements: StatementSet) -> dict[str, object]:
    """Counts per split x category x label and per split x category x phenomenon x label."""
    return split_stats(statements, SOURCE, TEMPLATES, DEV_TEMPLATE_IDS, PHENOMENA)


def datasheet_markdown(statements: StatementSet, command: str) -> str:
    """Provenance, counts per category x phenomenon x label per split, hold-out, drops."""
    train, dev = statements.train, statements.dev
    tables = datasheet_tables(statements, TEMPLATES, PHENOMENA)
    held_out = "\n".join(f"- `{i}`" for i in sorted(DEV_TEMPLATE_IDS))
    return f"""# Datasheet: statement-form contrastive rows for the category head (`{SOURCE}`)

Written by `{command}` from `train/data/category_statements.py` (issue 15).

## Why
The category head's training data was almost all requests ("How do I ...?"), while moderation
traffic and OpenAI's self-harm, harassment, violence and hate categories are mostly statements:
someone saying they want to die, a message insulting the reader, a threat, text relishing an
attack, a hateful claim about a group. These rows are such statements, each with a safe
counterpart that shares its patterns.

## Provenance
- Written by hand for this project from the text of the Llama Guard 3 hazard taxonomy (S1-S14)
  and OpenAI's public moderation category descriptions, plus general knowledge. Nothing was
  copied or paraphrased from an evaluation set (OpenAI moderation eval, ToxicChat, XSTest,
  HarmBench, DICES); the eval sets were read only by the decontamination below, to drop rows.
- In the spirit of CheckList (Ribeiro et al., 2020) and HateCheck (Röttger et al., 2021): each
  template crosses shared patterns (register wrappers: chat, forum, tweet, lowercase, typos,
  ALL CAPS) with benign and harmful fillers, so that the filler, not the topic, the person
  addressed or the form, carries the label.
- Labelled by construction: 1 = the statement expresses content harmful under the Llama Guard 3
  / OpenAI policies (intent or plan to die or self-harm, encouraging self-harm or starving,
  glorifying suicide; insults and bullying, degrading or dehumanising statements about a
  protected group, calls to exclude; threats, wishing or inciting violence, relishing a real
  attack or an assault; explicit sexual statements), 0 = safe. Harmful fillers carry no
  operational detail (no method, dose or how-to) and no real slur.
- `category` is the Llama Guard 3 code (the hazard head's target: 1 at that code, 0 at the
  others, `train.data.hazards`); `variant` is `<template id>:<phenomenon>`; `response` is None.
- Whole templates are held out for dev and never reach training. Prompts are deduplicated
  (`normalise_text`) within each split, and a dev prompt that is also a training prompt is
  dropped from dev, so no prompt is in both.

## Files
- `train.jsonl.gz`, `dev.jsonl.gz`: `Record` rows (`train.data.records.write_records`)
- `stats.json`: the numbers below, machine-readable

## Templates: {len(TEMPLATES)} ({len(DEV_TEMPLATE_IDS)} held out); rows: {len(train) + len(dev)}

{tables.totals}

## Per category x label x split

{tables.by_category}

## Per category x phenomenon x label x split

{tables.by_category_phenomenon}

## Held-out (dev) templates

{held_out}

{tables.decontamination}"""


def write_category_statements(out: Path, data_dir: Path, command: str) -> StatementSet:
    """`out`/train.jsonl.gz, dev.jsonl.gz, DATASHEET.md and stats.json."""
    statements = build_category_statements(data_dir)
    write_template_set(out, statements, stats(statements), datasheet_markdown(statements, command))
    return statements
