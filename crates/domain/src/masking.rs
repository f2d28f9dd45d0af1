//! How an affiliate sees a merchant's customer: `j***@example.com`. The portal shows which
//! sale a commission came from without handing the merchant's customer list to affiliates.

/// The first character of the local part, `***`, then the domain. Anything that is not an
/// address (no `@`, nothing before it) shows as `***`, never as itself.
pub fn mask_email(email: &str) -> String {
    let email = email.trim();
    match email.rsplit_once('@') {
        Some((local, domain)) if !domain.is_empty() => match local.chars().next() {
            Some(first) if !first.is_whitespace() && first != '@' => format!("{first}***@{domain}"),
            _ => format!("***@{domain}"),
        },
        _ => "***".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_email;

    #[test]
    fn keeps_the_first_character_and_the_domain() {
        assert_eq!(mask_email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(mask_email(" J@x.io "), "J***@x.io");
        // One character or many: the same length shown, so the length is not leaked.
        assert_eq!(mask_email("a@b.c").len(), mask_email("abcdefgh@b.c").len());
    }

    #[test]
    fn unicode_is_cut_on_a_character() {
        assert_eq!(mask_email("éloïse@exemple.fr"), "é***@exemple.fr");
        assert_eq!(mask_email("日本@例え.jp"), "日***@例え.jp");
    }

    #[test]
    fn what_is_not_an_address_never_shows_itself() {
        assert_eq!(mask_email(""), "***");
        assert_eq!(mask_email("no-at-sign"), "***");
        assert_eq!(mask_email("trailing@"), "***");
        assert_eq!(mask_email("@example.com"), "***@example.com");
        // The last `@` splits, so a quoted local part with `@` shows only its first character.
        assert_eq!(mask_email("a@b@example.com"), "a***@example.com");
    }
}
