{#- What the package's models need that DuckDB, Postgres, BigQuery and Snowflake spell
    differently; the models are generated to call these (armature_analytics/dbt_package). -#}

{#- A 64-bit float. dbt's type_float() is 32 bits on DuckDB. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'armature')()) }}
{%- endmacro %}
{% macro default__type_double() -%}{{ return(dbt.type_float()) }}{%- endmacro %}
{% macro duckdb__type_double() -%}double{%- endmacro %}

{#- The UTC calendar date of a timestamp with time zone. -#}
{% macro utc_date(timestamp) -%}
    {{ return(adapter.dispatch('utc_date', 'armature')(timestamp)) }}
{%- endmacro %}
{% macro default__utc_date(timestamp) -%}cast({{ timestamp }} at time zone 'UTC' as date){%- endmacro %}
{% macro bigquery__utc_date(timestamp) -%}date({{ timestamp }}, 'UTC'){%- endmacro %}
{% macro snowflake__utc_date(timestamp) -%}cast(convert_timezone('UTC', {{ timestamp }}) as date){%- endmacro %}

{#- One top-level key of a JSON column, as text. -#}
{% macro json_text(document, key) -%}
    {{ return(adapter.dispatch('json_text', 'armature')(document, key)) }}
{%- endmacro %}
{% macro default__json_text(document, key) -%}({{ document }} ->> '{{ key }}'){%- endmacro %}
{% macro duckdb__json_text(document, key) -%}json_extract_string({{ document }}, '$.{{ key }}'){%- endmacro %}
{% macro bigquery__json_text(document, key) -%}json_value({{ document }}, '$.{{ key }}'){%- endmacro %}
{% macro snowflake__json_text(document, key) -%}{{ document }}:"{{ key }}"::varchar{%- endmacro %}

{#- The continuous percentile of a column, as an aggregate. BigQuery has an exact one only as a
    window function: there it is approximate (approx_quantiles, 1000 buckets). -#}
{% macro percentile_cont(column, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'armature')(column, fraction)) }}
{%- endmacro %}
{% macro default__percentile_cont(column, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ column }})
{%- endmacro %}
{% macro duckdb__percentile_cont(column, fraction) -%}quantile_cont({{ column }}, {{ fraction }}){%- endmacro %}
{% macro bigquery__percentile_cont(column, fraction) -%}
    approx_quantiles({{ column }}, 1000)[offset({{ (fraction * 1000) | int }})]
{%- endmacro %}

{#- A column whose name one adapter reserves (`range` in BigQuery), quoted only there. -#}
{% macro column_name(name) -%}
    {{ return(adapter.dispatch('column_name', 'armature')(name)) }}
{%- endmacro %}
{% macro default__column_name(name) -%}{{ name }}{%- endmacro %}
{% macro bigquery__column_name(name) -%}{{ adapter.quote(name) }}{%- endmacro %}
